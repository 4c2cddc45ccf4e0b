package org.mailproxy.smtp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Through the proxy to a real Postfix submission service, checked in Dovecot's maildir. */
@RequiresMailStack
class SmtpRelayMailStackTest {

    @TempDir
    Path dir;

    private void sendsAndArrives(MailStack stack, String url) throws Exception {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String marker = UUID.randomUUID().toString();
        String body = "Hello Bob,\r\n..a stuffed line\r\nmarker " + marker + "\r\n";
        String message = "From: " + alice.email() + "\r\nTo: " + bob.email() + "\r\nSubject: via mailproxy " + marker
                + "\r\nMessage-ID: <" + marker + "@example.test>\r\n\r\n" + body;
        try (ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", url), "", stack.caCertFile());
             TestClient c = new TestClient(p.port())) {
            assertThat(c.reply()).startsWith("220 ");
            assertThat(c.cmd("EHLO client.example")).startsWith("250-");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain(alice.login(), alice.password()))).startsWith("235");
            c.send("MAIL FROM:<" + alice.email() + ">\r\nRCPT TO:<nosuchuser@" + stack.domain() + ">\r\nRCPT TO:<"
                    + bob.email() + ">\r\nDATA\r\n");
            assertThat(c.reply()).startsWith("250");
            assertThat(c.reply()).startsWith("550");
            assertThat(c.reply()).startsWith("250");
            assertThat(c.reply()).startsWith("354");
            c.send(message + ".\r\n");
            assertThat(c.reply()).startsWith("250 2.0.0");
            assertThat(c.cmd("QUIT")).startsWith("221");
        }
        // The stack is shared: wait for our message among whatever else is there (Postfix delivers asynchronously).
        StoredMessage got = await().atMost(Duration.ofSeconds(30)).until(
                () -> stack.messages(bob, "INBOX").stream().filter(m -> marker.equals(extractMarker(m))).findFirst(),
                java.util.Optional::isPresent).get();
        // Postfix adds trace headers on top; the body is what the client sent, unstuffed.
        assertThat(got.text()).endsWith("\r\n\r\nHello Bob,\r\n.a stuffed line\r\nmarker " + marker + "\r\n");
        assertThat(got.header("Subject")).isEqualTo("via mailproxy " + marker);
    }

    private static String extractMarker(StoredMessage m) {
        String subject = m.header("Subject");
        return subject == null ? null : subject.substring(subject.lastIndexOf(' ') + 1);
    }

    @Test
    void submissionWithMandatoryStartTls(MailStack stack) throws Exception {
        sendsAndArrives(stack, "smtp+starttls://" + stack.host() + ":" + stack.submissionPort());
    }

    @Test
    void submissionWithImplicitTls(MailStack stack) throws Exception {
        sendsAndArrives(stack, "smtps://" + stack.host() + ":" + stack.submissionsPort());
    }
}
