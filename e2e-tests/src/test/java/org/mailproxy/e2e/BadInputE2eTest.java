package org.mailproxy.e2e;

import io.micrometer.core.instrument.Gauge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Hostile and broken clients against the whole daemon with a real Dovecot and Postfix behind it: garbage, an
 * over-long line, over-large literals, and a client that vanishes in the middle of an APPEND literal or of DATA.
 * Each gets a protocol error or a closed connection; meanwhile a healthy session opened before keeps working,
 * a new session can still log in, and nothing half-received reaches the mailbox (SECURITY.md 17, 18; the
 * introduction of SECURITY.md: "the session or daemon keeps working, and nothing is lost").
 */
@RequiresMailStack
class BadInputE2eTest {

    private static final int MAX_IMAP_LINE = 8192;
    private static final int MAX_LITERAL = 1 << 20;
    private static final int MAX_SMTP_LINE = 4096;
    private static final String LIMITS = "imap.limits.max-command-line = " + MAX_IMAP_LINE + "\n"
            + "imap.limits.max-literal = " + MAX_LITERAL + "\n"
            + "smtp.limits.max-command-line = " + MAX_SMTP_LINE + "\n";

    @TempDir
    Path dir;

    private static byte[] garbage(long seed) {
        byte[] g = new byte[4096];
        new Random(seed).nextBytes(g);
        g[100] = 0; // certainly a NUL, whatever the seed gives
        byte[] withEnd = Arrays.copyOf(g, g.length + 2);
        withEnd[g.length] = '\r';
        withEnd[g.length + 1] = '\n';
        return withEnd;
    }

    private static double activeSessions(RunningProxy proxy, String protocol) {
        Gauge g = proxy.daemon().context().meters().find("mailproxy.sessions.active").tag("protocol", protocol).gauge();
        return g == null ? -1 : g.value();
    }

    private static void awaitActiveSessions(RunningProxy proxy, String protocol, int expected) {
        await(protocol + " sessions closed by the proxy").atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(20))
                .until(() -> activeSessions(proxy, protocol) == expected);
    }

    private static RawImap loggedIn(RunningProxy proxy, MailUser user) throws IOException {
        RawImap c = new RawImap(proxy.imapPort());
        assertThat(c.readLine()).startsWith("* OK");
        List<Response> login = c.command("l1", "LOGIN " + RawImap.quoted(user.login()) + " " + RawImap.quoted(user.password()));
        assertThat(RawImap.last(login)).startsWith("l1 OK");
        return c;
    }

    /** The healthy session still answers NOOP and serves the seeded message byte for byte. */
    private static void stillHealthy(RawImap healthy, String step, StoredMessage seeded) throws IOException {
        List<Response> noop = healthy.command("h-" + step, "NOOP");
        assertThat(RawImap.last(noop)).as("NOOP after %s", step).startsWith("h-" + step + " OK");
        List<Response> fetch = healthy.command("f-" + step, "UID FETCH " + seeded.uid() + " (BODY.PEEK[])");
        assertThat(RawImap.last(fetch)).as("FETCH after %s", step).startsWith("f-" + step + " OK");
        assertThat(fetch.get(0).literals()).as("FETCH after %s", step).hasSize(1);
        assertThat(fetch.get(0).literals().get(0)).as("FETCH after %s", step).isEqualTo(seeded.content());
    }

    @Test
    void imapBadClientsGetErrorsAndOthersCarryOn(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String seedMarker = UUID.randomUUID().toString();
        stack.deliver(alice, TestMessages.plain("bob@example.test", alice.email(), seedMarker, "seeded\r\n"));
        StoredMessage seeded = Mailboxes.find(stack, alice, "INBOX", seedMarker).orElseThrow();
        String dropMarker = "dropped-" + UUID.randomUUID();

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT, LIMITS);
             RawImap healthy = loggedIn(proxy, alice)) {
            assertThat(RawImap.last(healthy.command("s1", "SELECT INBOX"))).startsWith("s1 OK");
            stillHealthy(healthy, "start", seeded);

            // 1. Garbage before login: NUL and bare CR/LF are fatal (SECURITY.md 18).
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                c.send(garbage(1));
                List<String> lines = c.readUntilClosed();
                assertThat(lines).as("replies to garbage").isNotEmpty()
                        .allSatisfy(l -> assertThat(l).matches("^(\\* BAD|\\* BYE|\\S+ BAD).*"));
            }
            stillHealthy(healthy, "garbage", seeded);

            // 2. A command line beyond imap.limits.max-command-line, after login (the session has an upstream).
            try (RawImap c = loggedIn(proxy, alice)) {
                c.send("a2 NOOP " + "x".repeat(MAX_IMAP_LINE + 100) + "\r\n");
                List<String> lines = c.readUntilClosed();
                assertThat(lines).as("replies to an over-long line").isNotEmpty()
                        .anySatisfy(l -> assertThat(l).matches("^(\\*|a2) BAD.*"))
                        .allSatisfy(l -> assertThat(l).matches("^(\\*|a2) (BAD|BYE).*"));
            }
            stillHealthy(healthy, "longline", seeded);

            // 3. Literals announced too large: refused before any "+" (RFC 9051 4.3); the session continues.
            try (RawImap c = loggedIn(proxy, alice)) {
                List<Response> tooBig = c.command("a3", "APPEND INBOX {" + (MAX_LITERAL + 1) + "}");
                assertThat(RawImap.texts(tooBig)).noneMatch(t -> t.startsWith("+"));
                assertThat(RawImap.last(tooBig)).matches("^a3 (NO|BAD) .*");
                assertThat(RawImap.last(c.command("a4", "NOOP"))).startsWith("a4 OK");
                // A size that overflows every integer type.
                List<Response> overflow = c.command("a5", "APPEND INBOX {184467440737095516160000}");
                assertThat(RawImap.texts(overflow)).noneMatch(t -> t.startsWith("+"));
                assertThat(RawImap.last(overflow)).matches("^a5 (NO|BAD) .*");
                assertThat(RawImap.last(c.command("a55", "NOOP"))).startsWith("a55 OK");
            }
            // A non-synchronizing literal beyond 4096 octets (RFC 7888 5): its octets are already on the way.
            try (RawImap c = loggedIn(proxy, alice)) {
                c.send("a6 APPEND INBOX {5000+}\r\n" + "y".repeat(5000) + "\r\n");
                List<String> lines = c.readUntilClosed();
                assertThat(lines).anySatisfy(l -> assertThat(l).matches("^(\\*|a6) BAD.*"));
            }
            stillHealthy(healthy, "literals", seeded);

            // 4. A client that drops in the middle of an APPEND literal.
            try (RawImap c = loggedIn(proxy, alice)) {
                byte[] message = TestMessages.plain("bob@example.test", alice.email(), dropMarker,
                        "z".repeat(3000) + "\r\n");
                c.send("a7 APPEND INBOX {" + message.length + "}\r\n");
                assertThat(c.readLine()).startsWith("+");
                c.send(Arrays.copyOf(message, message.length / 2));
            }
            awaitActiveSessions(proxy, "imap", 1);
            stillHealthy(healthy, "dropped", seeded);
            List<Response> search = healthy.command("s2", "UID SEARCH HEADER Message-ID " + RawImap.quoted(dropMarker));
            assertThat(RawImap.last(search)).startsWith("s2 OK");
            assertThat(RawImap.texts(search)).contains("* SEARCH");
            assertThat(Mailboxes.find(stack, alice, "INBOX", dropMarker)).as("half an APPEND stored").isEmpty();

            // 5. The daemon still takes new sessions.
            try (RawImap fresh = loggedIn(proxy, alice)) {
                assertThat(RawImap.last(fresh.command("n1", "EXAMINE INBOX"))).startsWith("n1 OK");
                assertThat(RawImap.last(fresh.command("n2", "LOGOUT"))).startsWith("n2 OK");
            }
            assertThat(RawImap.last(healthy.command("z9", "LOGOUT"))).startsWith("z9 OK");
        }
    }

    private static RawSmtp authenticated(RunningProxy proxy, MailUser user) throws IOException {
        RawSmtp c = new RawSmtp(proxy.smtpPort());
        assertThat(c.reply()).startsWith("220 ");
        assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
        assertThat(c.command("AUTH PLAIN " + RawSmtp.plain(user.login(), user.password()))).startsWith("235 ");
        return c;
    }

    @Test
    void smtpBadClientsGetErrorsAndOthersCarryOn(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String dropMarker = "dropped-" + UUID.randomUUID();
        String goodMarker = "good-" + UUID.randomUUID();

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.STARTTLS, LIMITS);
             RawSmtp healthy = authenticated(proxy, alice)) {
            // The healthy session is in the middle of a transaction while the others misbehave.
            assertThat(healthy.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");

            // 1. Garbage: errors or a close, never a 2xx.
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                c.send(garbage(2));
                c.send("QUIT\r\n");
                assertThat(c.repliesUntilClosed()).allSatisfy(r -> assertThat(r).matches("^(5\\d\\d|221) .*"));
            }
            // 2. A line beyond smtp.limits.max-command-line.
            try (RawSmtp c = authenticated(proxy, alice)) {
                c.send("NOOP " + "x".repeat(MAX_SMTP_LINE + 100) + "\r\nQUIT\r\n");
                List<String> replies = c.repliesUntilClosed();
                assertThat(replies).allSatisfy(r -> assertThat(r).matches("^(5\\d\\d|221) .*"));
                assertThat(replies).anySatisfy(r -> assertThat(r).startsWith("5"));
            }
            // 3. An HTTP request sent to the SMTP port (a browser tricked into it) is cut off (SECURITY.md 16).
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                c.send("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nQUIT\r\n");
                assertThat(c.repliesUntilClosed()).noneMatch(r -> r.startsWith("2") && !r.startsWith("221"));
            }
            // 4. A client that drops in the middle of DATA: nothing may be delivered.
            try (RawSmtp c = authenticated(proxy, alice)) {
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                byte[] message = TestMessages.plain(alice.email(), bob.email(), dropMarker, "half a message\r\n");
                c.send(Arrays.copyOf(message, message.length - 10));
            }
            awaitActiveSessions(proxy, "smtp", 1);

            // The healthy session finishes its transaction.
            assertThat(healthy.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
            assertThat(healthy.command("DATA")).startsWith("354");
            healthy.send(TestMessages.plain(alice.email(), bob.email(), goodMarker, "whole message\r\n"));
            assertThat(healthy.command(".")).startsWith("250");
            assertThat(healthy.command("QUIT")).startsWith("221");

            // 5. A new session can still send.
            String freshMarker = "fresh-" + UUID.randomUUID();
            try (RawSmtp c = authenticated(proxy, alice)) {
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                c.send(TestMessages.plain(alice.email(), bob.email(), freshMarker, "fresh\r\n"));
                assertThat(c.command(".")).startsWith("250");
                assertThat(c.command("QUIT")).startsWith("221");
            }
            Mailboxes.awaitDelivered(stack, bob, goodMarker);
            Mailboxes.awaitDelivered(stack, bob, freshMarker);
            // Postfix never got the final dot of the dropped message, so it has nothing to deliver.
            assertThat(Mailboxes.find(stack, bob, "INBOX", dropMarker)).as("half a message delivered").isEmpty();
            assertThat(new String(Mailboxes.find(stack, bob, "INBOX", goodMarker).orElseThrow().content(),
                    StandardCharsets.UTF_8)).endsWith("\r\n\r\nwhole message\r\n");
        }
    }

    /** MAIL, RCPT and DATA on a fresh authenticated session, then {@code data} as sent; the reply to it. */
    private static String refusedData(RunningProxy proxy, MailUser from, MailUser to, String data) throws IOException {
        try (RawSmtp c = authenticated(proxy, from)) {
            assertThat(c.command("MAIL FROM:<" + from.email() + ">")).startsWith("250");
            assertThat(c.command("RCPT TO:<" + to.email() + ">")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            c.send(data);
            String reply = c.reply();
            // Part of the message may already be upstream; the proxy can only cancel it by dropping its upstream
            // connection, so the session may end here with 421 (RFC 5321 3.8) instead of going on.
            String next = c.command("NOOP");
            assertThat(next).as("the session after a refused DATA").matches("^(250|421) .*");
            return reply;
        }
    }

    /**
     * SMTP smuggling (CVE-2023-51764..66, SECURITY.md 13): DATA with a bare-LF or bare-CR "end of data" followed by a
     * second transaction must be refused as a whole, with nothing of either part delivered; so is DATA with a NUL.
     * The daemon then still sends the next client's message.
     */
    @Test
    void smtpSmugglingIsRefusedAndNothingLeaks(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String run = UUID.randomUUID().toString();
        List<String> endings = List.of("\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r\r\n");
        String goodMarker = "after-smuggling-" + run;
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT, LIMITS)) {
            for (int i = 0; i < endings.size(); i++) {
                String marker = "smuggle-" + i + "-" + run;
                String smuggled = "From: <" + alice.email() + ">\r\nTo: <" + bob.email() + ">\r\nSubject: outer "
                        + marker + "\r\n\r\nouter body" + endings.get(i)
                        + "MAIL FROM:<" + alice.email() + ">\r\nRCPT TO:<" + bob.email() + ">\r\nDATA\r\n"
                        + "From: <ceo@example.test>\r\nSubject: inner " + marker + "\r\n\r\nsmuggled\r\n";
                assertThat(refusedData(proxy, alice, bob, smuggled + ".\r\n"))
                        .as("reply to the whole DATA of variant %d", i).matches("^5\\d\\d .*");
            }
            assertThat(refusedData(proxy, alice, bob, "Subject: nul smuggle-nul-" + run + "\r\n\r\nbefore\0after\r\n.\r\n"))
                    .as("reply to DATA with a NUL").matches("^5\\d\\d .*");

            try (RawSmtp c = authenticated(proxy, alice)) {
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                c.send(TestMessages.plain(alice.email(), bob.email(), goodMarker, "fine\r\n"));
                assertThat(c.command(".")).startsWith("250");
                assertThat(c.command("QUIT")).startsWith("221");
            }
        }
        Mailboxes.awaitDelivered(stack, bob, goodMarker);
        assertThat(stack.messages(bob, "INBOX")).as("nothing of a refused message was delivered")
                .noneMatch(m -> m.text().contains("smuggle-") && m.text().contains(run));
    }

    /**
     * Command injection behind STARTTLS (CVE-2011-0411 class, SECURITY.md 10): octets pipelined after the STARTTLS
     * command would be taken as if they came through TLS, so the proxy closes; and a plaintext client on the
     * implicit-TLS listener gets no protocol answer at all. Other clients are unaffected.
     */
    @Test
    void starttlsInjectionAndPlaintextOnTlsAreCutOff(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String login = "LOGIN " + RawImap.quoted(alice.login()) + " " + RawImap.quoted(alice.password());
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.STARTTLS, Upstream.IMPLICIT)) {
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                c.send("a1 STARTTLS\r\na2 " + login + "\r\n");
                assertThat(c.readUntilClosed()).as("after STARTTLS with a command behind it")
                        .noneMatch(l -> l.startsWith("a2 "));
            }
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
                c.send("STARTTLS\r\nAUTH PLAIN " + RawSmtp.plain(alice.login(), alice.password()) + "\r\n");
                assertThat(c.repliesUntilClosed()).as("after STARTTLS with a command behind it")
                        .noneMatch(r -> r.startsWith("235"));
            }
            // The same daemon still serves a well-behaved client.
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                assertThat(RawImap.last(c.command("b1", login))).startsWith("b1 OK");
            }
        }
        try (RunningProxy proxy = RunningProxy.start(stack, dir.resolve("implicit"), Local.IMPLICIT, Upstream.IMPLICIT);
             RawImap c = new RawImap(proxy.imapPort())) {
            c.send("a1 " + login + "\r\n");
            assertThat(c.readUntilClosed()).as("plaintext on the implicit-TLS port")
                    .noneMatch(l -> l.contains("OK") || l.contains("a1"));
        }
    }
}
