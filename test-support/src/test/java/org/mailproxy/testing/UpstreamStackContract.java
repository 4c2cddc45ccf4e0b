package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every other module's tests rely on, checked with plain JDK sockets against any {@link UpstreamStack}: the
 * loopback stack ({@link MailStackTest}) and the container ({@link ContainerMailStackTest}) must both pass.
 */
abstract class UpstreamStackContract {

    private static final Duration DELIVERY = Duration.ofSeconds(20);

    private UpstreamStack stack;

    /** The stack under test. */
    abstract UpstreamStack stack();

    @BeforeEach
    void pickStack() {
        stack = stack();
    }

    @Test
    void imapsLoginWorksAndAWrongPasswordFails() throws IOException {
        MailUser alice = stack.alice();
        try (LineClient imap = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.imapsPort())) {
            assertThat(imap.readLine()).startsWith("* OK");
            assertThat(imap.command("a", "LOGIN " + alice.login() + " " + alice.password())).startsWith("a OK");
            List<String> list = sendAndRead(imap, "b", "LIST \"\" \"*\"");
            assertThat(list).anySatisfy(l -> assertThat(l).contains("\\Sent").endsWith("Sent"))
                    .anySatisfy(l -> assertThat(l).contains("\\Drafts").endsWith("Drafts"))
                    .anySatisfy(l -> assertThat(l).contains("\\Trash").endsWith("Trash"));
        }
        try (LineClient imap = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.imapsPort())) {
            imap.readLine();
            assertThat(imap.command("a", "LOGIN " + alice.login() + " wrong-" + alice.password()))
                    .startsWith("a NO");
        }
    }

    @Test
    void imapStarttlsUpgradesThenLogsIn() throws IOException {
        MailUser bob = stack.bob();
        try (LineClient imap = LineClient.plain(stack.host(), stack.imapStarttlsPort())) {
            assertThat(imap.readLine()).startsWith("* OK").contains("STARTTLS");
            assertThat(imap.command("a", "STARTTLS")).startsWith("a OK");
            imap.startTls(stack.clientSocketFactory(), stack.host(), stack.imapStarttlsPort());
            assertThat(imap.isTls()).isTrue();
            assertThat(imap.command("b", "LOGIN " + bob.login() + " " + bob.password())).startsWith("b OK");
            assertThat(imap.command("c", "SELECT INBOX")).startsWith("c OK");
        }
    }

    @Test
    void theServerCertificateIsTrustedOnlyThroughTheTestCa() throws Exception {
        SSLContext systemDefault = SSLContext.getDefault();
        assertThatThrownBy(() -> LineClient.tls(systemDefault.getSocketFactory(), stack.host(), stack.imapsPort()))
                .isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void submissionWithStarttlsAndAuthPlainDeliversToBob() throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String token = UUID.randomUUID().toString();
        try (LineClient smtp = LineClient.plain(stack.host(), stack.submissionPort())) {
            assertThat(LineClient.code(smtp.readReply())).isEqualTo(220);
            smtp.send("EHLO client.example.test");
            List<String> ehlo = smtp.readReply();
            assertThat(ehlo).anySatisfy(l -> assertThat(l).contains("STARTTLS"));
            assertThat(ehlo).noneSatisfy(l -> assertThat(l).contains("AUTH"));
            assertThat(smtp.smtp("STARTTLS")).isEqualTo(220);
            smtp.startTls(stack.clientSocketFactory(), stack.host(), stack.submissionPort());
            smtp.send("EHLO client.example.test");
            assertThat(smtp.readReply()).anySatisfy(l -> assertThat(l).contains("AUTH").contains("PLAIN"));
            assertThat(smtp.smtp("AUTH PLAIN " + plain(alice))).isEqualTo(235);
            sendMessage(smtp, alice, bob, token);
        }
        List<StoredMessage> found = awaitToken(bob, token);
        assertThat(found.get(0).text()).contains("Subject: test " + token).contains("\r\n");
        assertThat(found.get(0).uid()).isPositive();
    }

    @Test
    void submissionsWithImplicitTlsDeliversToCarol() throws IOException {
        MailUser bob = stack.bob();
        MailUser carol = stack.carol();
        String token = UUID.randomUUID().toString();
        try (LineClient smtp = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.submissionsPort())) {
            assertThat(LineClient.code(smtp.readReply())).isEqualTo(220);
            assertThat(smtp.smtp("EHLO client.example.test")).isEqualTo(250);
            assertThat(smtp.smtp("AUTH PLAIN " + plain(bob))).isEqualTo(235);
            sendMessage(smtp, bob, carol, token);
        }
        assertThat(awaitToken(carol, token)).hasSize(1);
    }

    @Test
    void recipientsOutsideTheDomainAndUnknownUsersAreRefused() throws IOException {
        MailUser alice = stack.alice();
        try (LineClient smtp = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.submissionsPort())) {
            smtp.readReply();
            smtp.smtp("EHLO client.example.test");
            assertThat(smtp.smtp("AUTH PLAIN " + plain(alice))).isEqualTo(235);
            assertThat(smtp.smtp("MAIL FROM:<" + alice.email() + ">")).isEqualTo(250);
            assertThat(smtp.smtp("RCPT TO:<someone@elsewhere.test>")).isBetween(550, 559);
            assertThat(smtp.smtp("RCPT TO:<nobody@example.test>")).isBetween(550, 559);
            assertThat(smtp.smtp("QUIT")).isEqualTo(221);
        }
    }

    @Test
    void submissionRefusesAuthWithAWrongPasswordAndMailWithoutAuth() throws IOException {
        MailUser alice = stack.alice();
        try (LineClient smtp = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.submissionsPort())) {
            smtp.readReply();
            smtp.smtp("EHLO client.example.test");
            assertThat(smtp.smtp("AUTH PLAIN " + Base64.getEncoder().encodeToString(
                    ("\0" + alice.login() + "\0wrong").getBytes(StandardCharsets.UTF_8)))).isEqualTo(535);
            assertThat(smtp.smtp("MAIL FROM:<" + alice.email() + ">")).isEqualTo(250);
            assertThat(smtp.smtp("RCPT TO:<" + stack.bob().email() + ">")).isBetween(550, 559);
        }
    }

    @Test
    void deliveredMessagesAreStoredByteForByteAndClearedAgain() throws IOException {
        MailUser carol = stack.carol();
        String token = UUID.randomUUID().toString();
        byte[] message = ("From: bob@example.test\r\nTo: carol@example.test\r\nSubject: seeded " + token
                + "\r\nMessage-ID: <" + token + "@example.test>\r\n\r\nbody line\r\n").getBytes(StandardCharsets.UTF_8);
        stack.deliver(carol, "Sent", message);
        List<StoredMessage> sent = stack.messages(carol, "Sent");
        assertThat(sent).anySatisfy(m -> assertThat(m.content()).isEqualTo(message));
        assertThat(sent.get(sent.size() - 1).header("subject")).isEqualTo("seeded " + token);
        try (LineClient imap = LineClient.tls(stack.clientSocketFactory(), stack.host(), stack.imapsPort())) {
            imap.readLine();
            imap.command("a", "LOGIN " + carol.login() + " " + carol.password());
            List<String> select = sendAndRead(imap, "b", "EXAMINE Sent");
            assertThat(select).contains("* " + sent.size() + " EXISTS");
        }
        stack.clearMailbox(carol);
        assertThat(stack.messages(carol, "Sent")).isEmpty();
        assertThat(stack.messages(carol, "INBOX")).isEmpty();
    }

    @Test
    void postfixCanBeStoppedAndStartedAgain() throws IOException {
        stack.stopPostfix();
        try {
            assertThatThrownBy(() -> LineClient.plain(stack.host(), stack.submissionPort()))
                    .isInstanceOf(ConnectException.class);
            assertThatThrownBy(() -> LineClient.plain(stack.host(), stack.submissionsPort()))
                    .isInstanceOf(ConnectException.class);
        } finally {
            stack.startPostfix();
        }
        try (LineClient smtp = LineClient.plain(stack.host(), stack.submissionPort())) {
            assertThat(LineClient.code(smtp.readReply())).isEqualTo(220);
        }
    }

    private static List<String> sendAndRead(LineClient imap, String tag, String command) throws IOException {
        imap.send(tag + " " + command);
        List<String> lines = imap.readTagged(tag);
        assertThat(lines.get(lines.size() - 1)).startsWith(tag + " OK");
        return lines;
    }

    private static String plain(MailUser user) {
        return Base64.getEncoder().encodeToString(
                ("\0" + user.login() + "\0" + user.password()).getBytes(StandardCharsets.UTF_8));
    }

    private static void sendMessage(LineClient smtp, MailUser from, MailUser to, String token) throws IOException {
        assertThat(smtp.smtp("MAIL FROM:<" + from.email() + ">")).isEqualTo(250);
        assertThat(smtp.smtp("RCPT TO:<" + to.email() + ">")).isEqualTo(250);
        assertThat(smtp.smtp("DATA")).isEqualTo(354);
        smtp.sendRaw(("From: " + from.email() + "\r\nTo: " + to.email() + "\r\nSubject: test " + token
                + "\r\nMessage-ID: <" + token + "@example.test>\r\n\r\nHello.\r\n..leading dot\r\n.\r\n")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(LineClient.code(smtp.readReply())).isEqualTo(250);
        assertThat(smtp.smtp("QUIT")).isEqualTo(221);
    }

    private List<StoredMessage> awaitToken(MailUser user, String token) {
        long deadline = System.nanoTime() + DELIVERY.toNanos();
        while (true) {
            List<StoredMessage> found = stack.messages(user, "INBOX").stream()
                    .filter(m -> m.text().contains(token))
                    .toList();
            if (!found.isEmpty()) {
                assertThat(found.get(0).text()).contains("\r\n.leading dot\r\n");
                return found;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no message with " + token + " reached " + user.email());
            }
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
