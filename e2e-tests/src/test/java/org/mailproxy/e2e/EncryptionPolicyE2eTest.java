package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * Recipients without a key (carol has none in these keyrings; bob has one). Under the default policy
 * ({@code opportunistic}) such mail goes out as the client wrote it, the proxy adding at most alice's Autocrypt
 * header; under {@code policy.encrypt = required} it is refused with 550 5.7.1 naming the recipient before anything
 * goes upstream, and none of it reaches Dovecot (SECURITY.md 15), while mail to bob still goes out encrypted.
 */
@RequiresMailStack
class EncryptionPolicyE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path classDir;

    private static PgpWorld opportunisticKeys;
    private static RunningProxy opportunistic;
    private static PgpWorld requiredKeys;
    private static RunningProxy required;

    @TempDir
    Path dir;

    @BeforeAll
    static void start(MailStack stack) throws Exception {
        Path o = classDir.resolve("opportunistic");
        opportunisticKeys = new PgpWorld(o, BOB);
        opportunistic = RunningProxy.start(stack, o, Local.OFF, Upstream.STARTTLS, "",
                opportunisticKeys.aliceAccount(""));
        Path r = classDir.resolve("required");
        requiredKeys = new PgpWorld(r, BOB);
        required = RunningProxy.start(stack, r, Local.OFF, Upstream.IMPLICIT, "",
                requiredKeys.aliceAccount("policy.encrypt = required"));
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[]{opportunistic, required, opportunisticKeys, requiredKeys}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
    }

    /**
     * The stored copy without the one {@code Autocrypt:} field the proxy may add (Autocrypt Level 1 §2.1), which, if
     * present, must carry alice's address.
     */
    private static byte[] withoutAutocrypt(StoredMessage stored) {
        String text = new String(stored.content(), StandardCharsets.ISO_8859_1);
        int start = text.startsWith("Autocrypt:") ? 0 : text.indexOf("\r\nAutocrypt:") + 2;
        if (start == 1) {
            return stored.content();
        }
        int end = start;
        do {
            end = text.indexOf("\r\n", end) + 2;
        } while (text.charAt(end) == ' ' || text.charAt(end) == '\t');
        assertThat(text.substring(start, end)).as("the Autocrypt field the proxy added")
                .startsWith("Autocrypt: addr=" + ALICE + "; keydata=");
        assertThat(text.indexOf("\r\nAutocrypt:", end - 2)).as("a second Autocrypt field").isNegative();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(stored.content(), 0, start);
        out.write(stored.content(), end, stored.content().length - end);
        return out.toByteArray();
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Tool.Result smtplib(Path dir, RunningProxy proxy, MailUser from, String rcpts, byte[] message)
            throws IOException {
        Tool python = Tool.require("python3");
        Path messageFile = Files.write(dir.resolve("message-" + UUID.randomUUID() + ".eml"), message);
        Path script = Tool.stdlibClient(dir);
        return python.run(dir, TIMEOUT, List.of(script.toString(), "send", "127.0.0.1",
                Integer.toString(proxy.smtpPort()), "plain", proxy.localCert().toString(), from.login(), rcpts,
                messageFile.toString()), (from.password() + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
    }

    @Test
    void opportunisticSendsMailToARecipientWithoutKeyAsWritten(MailStack stack) throws IOException {
        String marker = "opp-" + UUID.randomUUID();
        byte[] message = TestMessages.secret(ALICE, CAROL, marker, "subject-in-clear", "body-in-clear");
        Tool.Result r = smtplib(dir, opportunistic, stack.alice(), CAROL, message);
        assertThat(r.exit()).as(r.describe()).isZero();
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.carol(), marker);
        assertThat(utf8(withoutAutocrypt(stored))).as("carol's copy, the Autocrypt field aside, ends with what was sent")
                .endsWith(utf8(message));
    }

    @Test
    void opportunisticSendsAsWrittenWhenOneOfTheRecipientsHasNoKey(MailStack stack) throws IOException {
        String marker = "opp-mixed-" + UUID.randomUUID();
        byte[] message = TestMessages.ascii("From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\nCc: <" + CAROL + ">\r\n"
                + "Subject: to both " + marker + "\r\nDate: Mon, 02 Mar 2026 10:05:00 +0000\r\nMessage-ID: <" + marker + "@example.test>\r\n\r\nhello both\r\n");
        try (RawSmtp c = RawSmtp.authenticated(opportunistic.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB, CAROL), message);
            assertThat(replies).as("replies").hasSize(5).allSatisfy(x -> assertThat(x).matches("^(250|354) .*"));
        }
        for (MailUser u : List.of(stack.bob(), stack.carol())) {
            StoredMessage stored = Mailboxes.awaitDelivered(stack, u, marker);
            assertThat(stored.header("Content-Type")).as("%s's copy", u).isNull();
            assertThat(utf8(withoutAutocrypt(stored))).as("%s's copy ends with what was sent", u).endsWith(utf8(message));
        }
    }

    @Test
    void requiredRefusesRecipientsWithoutKeyAndNothingIsDelivered(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String run = UUID.randomUUID().toString();

        // swaks to carol alone, one command at a time and pipelined (RFC 2920)
        Tool swaks = Tool.require("swaks");
        String swaksMarker = "req-swaks-" + run;
        byte[] toCarol = TestMessages.secret(ALICE, CAROL, swaksMarker, "s" + run, "b" + run);
        for (boolean pipelined : new boolean[]{false, true}) {
            List<String> args = new ArrayList<>(List.of(
                    "--server", "127.0.0.1", "--port", Integer.toString(required.smtpPort()),
                    "--ehlo", "client.example.test", "--from", ALICE, "--to", CAROL,
                    "--auth", "PLAIN", "--auth-user", alice.login(), "--auth-password", alice.password(),
                    "--data", "-", "--timeout", "30"));
            if (pipelined) {
                args.add("--pipeline");
            }
            Tool.Result s = swaks.run(dir, TIMEOUT, args, Arrays.copyOf(toCarol, toCarol.length - 2), Map.of());
            assertThat(s.exit()).as("swaks' exit status; " + s.describe() + "\n" + s.out()).isNotZero();
            assertThat(s.out()).as("swaks' transcript, pipelined: " + pipelined)
                    .containsPattern("<\\*\\* +550 5\\.7\\.1 .*" + CAROL);
        }

        // smtplib to bob (has a key) and carol (has none): the whole message is refused, naming carol only
        String pyMarker = "req-smtplib-" + run;
        byte[] toBoth = TestMessages.secret(ALICE, BOB, pyMarker, "s" + run, "b" + run);
        Tool.Result p = smtplib(dir, required, alice, BOB + "," + CAROL, toBoth);
        assertThat(p.exit()).as(p.describe()).isNotZero();
        assertThat(p.stderr()).contains("SMTPDataError").contains("550").contains("5.7.1").contains(CAROL)
                .doesNotContain("key for " + BOB);

        // a control message right after, to bob, is sent (encrypted): once it is in, the refused ones would be too
        String controlMarker = "req-control-" + run;
        byte[] control = TestMessages.secret(ALICE, BOB, controlMarker, "cs" + run, "cb" + run);
        try (RawSmtp c = RawSmtp.authenticated(required.smtpPort(), alice)) {
            List<String> replies = c.transaction(ALICE, List.of(BOB), control);
            assertThat(replies.get(replies.size() - 1)).as("reply to the control message").startsWith("250 ");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), controlMarker);
        requiredKeys.assertEncrypted(stored, control, BOB, List.of("cs" + run, "cb" + run));
        for (MailUser u : List.of(stack.bob(), stack.carol())) {
            assertThat(stack.messages(u, "INBOX")).as("refused mail in %s's INBOX", u)
                    .noneMatch(m -> m.text().contains(swaksMarker) || m.text().contains(pyMarker));
        }
    }

    /** A Bcc recipient without key makes the message go out as written (opportunistic), and still without Bcc field. */
    @Test
    void opportunisticWithABccRecipientWithoutKeySendsAsWrittenButTheBccField(MailStack stack) throws IOException {
        String marker = "opp-bcc-" + UUID.randomUUID();
        String head = "From: <" + ALICE + ">\r\nTo: <" + BOB + ">\r\n";
        String rest = "Subject: bcc in clear " + marker + "\r\nDate: Mon, 02 Mar 2026 10:10:00 +0000\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n\r\nhello\r\n";
        byte[] message = TestMessages.ascii(head + "Bcc: <" + CAROL + ">\r\n" + rest);
        try (RawSmtp c = RawSmtp.authenticated(opportunistic.smtpPort(), stack.alice())) {
            List<String> replies = c.transaction(ALICE, List.of(BOB, CAROL), message);
            assertThat(replies.get(replies.size() - 1)).as("end of data: " + replies).startsWith("250 ");
        }
        for (MailUser u : List.of(stack.bob(), stack.carol())) {
            StoredMessage stored = Mailboxes.awaitDelivered(stack, u, marker);
            assertThat(stored.header("Bcc")).as("%s's copy: Bcc field", u).isNull();
            assertThat(utf8(withoutAutocrypt(stored))).as("%s's copy ends with what was sent, but the Bcc field", u)
                    .endsWith(head + rest);
        }
    }
}
