package org.mailproxy.e2e;

import jakarta.mail.Folder;
import jakarta.mail.Session;
import jakarta.mail.Store;
import org.eclipse.angus.mail.imap.IMAPFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Protocol variants real clients use that the other tests do not: SASL without an initial response (IMAP
 * AUTHENTICATE and SMTP AUTH answered after the continuation), swaks pipelining
 * its transaction (RFC 2920), one message to several recipients, several messages in one SMTP session, and IMAP
 * IDLE (RFC 2177) in Angus Mail woken by a new message.
 */
@RequiresMailStack
class ClientVariantsE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void imapSaslWithoutInitialResponse(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawImap c = new RawImap(proxy.imapPort())) {
            assertThat(c.readLine()).startsWith("* OK");
            List<Response> caps = c.command("a0", "CAPABILITY");
            assertThat(RawImap.last(caps)).startsWith("a0 OK");
            c.send("a1 AUTHENTICATE PLAIN\r\n");
            assertThat(c.readLine()).startsWith("+");
            c.send(b64("\0" + alice.login() + "\0" + alice.password()) + "\r\n");
            assertThat(RawImap.last(c.readUntilTagged("a1"))).startsWith("a1 OK");
            assertThat(RawImap.last(c.command("a2", "EXAMINE INBOX"))).startsWith("a2 OK");
        }
    }

    /** RFC 7888 LITERAL-: a non-synchronizing literal up to 4096 octets is relayed and stored as sent. */
    @Test
    void nonSynchronizingLiteralAppend(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.plain(stack.bob().email(), alice.email(), marker, "x".repeat(3000) + "\r\n");
        assertThat(message.length).isLessThanOrEqualTo(4096);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawImap c = new RawImap(proxy.imapPort())) {
            assertThat(c.readLine()).startsWith("* OK");
            assertThat(RawImap.last(c.command("a1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                    + RawImap.quoted(alice.password())))).startsWith("a1 OK");
            c.send("a2 APPEND INBOX (\\Seen) {" + message.length + "+}\r\n");
            c.send(message);
            c.send("\r\n");
            List<Response> append = c.readUntilTagged("a2");
            assertThat(RawImap.texts(append)).noneMatch(t -> t.startsWith("+"));
            assertThat(RawImap.last(append)).startsWith("a2 OK");
        }
        assertThat(Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow().content()).isEqualTo(message);
    }

    /** Logins the proxy can refuse by itself: an address that is no configured account never reaches upstream. */
    @Test
    void unknownAccountsAndOversizedMessagesAreRefused(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                assertThat(RawImap.last(c.command("a1", "LOGIN \"nobody@example.test\" \"whatever\"")))
                        .startsWith("a1 NO");
                assertThat(RawImap.last(c.command("a2", "LOGIN " + RawImap.quoted(alice.login()) + " "
                        + RawImap.quoted(alice.password())))).as("a later good login in the same session")
                        .startsWith("a2 OK");
            }
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
                assertThat(c.command("AUTH PLAIN " + RawSmtp.plain("nobody@example.test", "whatever"))).matches("^5\\d\\d .*");
                assertThat(c.command("AUTH PLAIN " + RawSmtp.plain(alice.login(), alice.password()))).startsWith("235");
                // RFC 1870: a declared size beyond the limit is refused at MAIL, before any data.
                assertThat(c.command("MAIL FROM:<" + alice.email() + "> SIZE=999999999999")).matches("^5\\d\\d .*");
                assertThat(c.command("QUIT")).startsWith("221");
            }
        }
    }

    @Test
    void smtpVariants(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        MailUser carol = stack.carol();
        String both = "both-" + UUID.randomUUID();
        String second = "second-" + UUID.randomUUID();
        String piped = "piped-" + UUID.randomUUID();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.STARTTLS)) {
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
                // AUTH PLAIN with the credentials after the 334 continuation (RFC 4954 4).
                assertThat(c.command("AUTH PLAIN")).startsWith("334");
                assertThat(c.command(b64("\0" + alice.login() + "\0" + alice.password()))).startsWith("235");
                // One message, two recipients.
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + carol.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                c.send(TestMessages.plain(alice.email(), bob.email(), both, "to two\r\n"));
                assertThat(c.command(".")).startsWith("250");
                // A second transaction in the same session, after an aborted one.
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RSET")).startsWith("250");
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                c.send(TestMessages.plain(alice.email(), bob.email(), second, "second\r\n"));
                assertThat(c.command(".")).startsWith("250");
                assertThat(c.command("QUIT")).startsWith("221");
            }
            Tool swaks = Tool.require("swaks");
            byte[] message = TestMessages.plain(alice.email(), bob.email(), piped, "pipelined\r\n");
            Tool.Result r = swaks.run(dir, TIMEOUT, List.of("--server", "127.0.0.1",
                    "--port", Integer.toString(proxy.smtpPort()), "--pipeline",
                    "--from", alice.email(), "--to", bob.email(),
                    "--auth", "LOGIN", "--auth-user", alice.login(), "--auth-password", alice.password(),
                    "--data", "-", "--timeout", "30"), Arrays.copyOf(message, message.length - 2), Map.of());
            assertThat(r.exit()).as(r.describe() + "\n" + r.out()).isZero();
        }
        Mailboxes.awaitDelivered(stack, bob, both);
        Mailboxes.awaitDelivered(stack, carol, both);
        Mailboxes.awaitDelivered(stack, bob, second);
        Mailboxes.awaitDelivered(stack, bob, piped);
    }

    @Test
    void angusIdleWakesOnNewMail(MailStack stack) throws Exception {
        MailUser carol = stack.carol();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            Properties p = new Properties();
            p.put("mail.imap.host", "127.0.0.1");
            p.put("mail.imap.port", Integer.toString(proxy.imapPort()));
            p.put("mail.imap.connectiontimeout", "20000");
            p.put("mail.imap.timeout", "30000");
            Session session = Session.getInstance(p);
            try (Store store = session.getStore("imap")) {
                store.connect(carol.login(), carol.password());
                IMAPFolder inbox = (IMAPFolder) store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                int before = inbox.getMessageCount();
                CompletableFuture<Void> idle = CompletableFuture.runAsync(() -> {
                    try {
                        inbox.idle(true);
                    } catch (jakarta.mail.MessagingException e) {
                        throw new IllegalStateException(e);
                    }
                });
                String marker = UUID.randomUUID().toString();
                // Deliver until IDLE returns: the first delivery may land before the IDLE command reached Dovecot.
                for (int i = 0; i < 5 && !idle.isDone(); i++) {
                    stack.deliver(carol, TestMessages.plain(stack.alice().email(), carol.email(), marker + i, "wake\r\n"));
                    try {
                        idle.get(3, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.TimeoutException stillIdle) {
                        // deliver another one
                    }
                }
                assertThat(idle).as("IDLE returned after new mail").isCompleted();
                assertThat(inbox.getMessageCount()).isGreaterThan(before);
                inbox.close(false);
            }
        }
    }
}
