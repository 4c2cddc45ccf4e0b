package org.mailproxy.e2e;

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
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Messages of several megabytes both ways through the proxy: a 12 MB APPEND literal and its FETCH, an 8 MB message
 * through SMTP DATA. What arrives is octet for octet what was sent, so flow control between the two sides
 * (auto-read off, read on writability) loses and duplicates nothing.
 */
@RequiresMailStack
class LargeMessagesE2eTest {

    @TempDir
    Path dir;

    @Test
    void largeAppendAndFetch(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.withAttachment(stack.bob().email(), alice.email(), marker, 9_000_000, 6);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.STARTTLS);
             RawImap c = new RawImap(proxy.imapPort())) {
            assertThat(c.readLine()).startsWith("* OK");
            assertThat(RawImap.last(c.command("a1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                    + RawImap.quoted(alice.password())))).startsWith("a1 OK");
            c.send("a2 APPEND INBOX {" + message.length + "}\r\n");
            assertThat(c.readLine()).startsWith("+");
            for (int off = 0; off < message.length; off += 65536) {
                c.send(Arrays.copyOfRange(message, off, Math.min(message.length, off + 65536)));
            }
            c.send("\r\n");
            assertThat(RawImap.last(c.readUntilTagged("a2"))).startsWith("a2 OK");

            StoredMessage stored = Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow();
            assertThat(stored.content()).as("Dovecot's copy of the APPEND").isEqualTo(message);

            assertThat(RawImap.last(c.command("a3", "EXAMINE INBOX"))).startsWith("a3 OK");
            List<Response> fetch = c.command("a4", "UID FETCH " + stored.uid() + " (BODY.PEEK[])");
            assertThat(RawImap.last(fetch)).startsWith("a4 OK");
            assertThat(fetch.get(0).literals()).hasSize(1);
            assertThat(fetch.get(0).literals().get(0)).as("FETCH of the APPEND").isEqualTo(message);
        }
    }

    @Test
    void largeSubmission(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.withAttachment(alice.email(), bob.email(), marker, 6_000_000, 7);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawSmtp c = new RawSmtp(proxy.smtpPort())) {
            assertThat(c.reply()).startsWith("220 ");
            assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
            assertThat(c.command("AUTH PLAIN " + RawSmtp.plain(alice.login(), alice.password()))).startsWith("235");
            assertThat(c.command("MAIL FROM:<" + alice.email() + "> SIZE=" + message.length)).startsWith("250");
            assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            c.send(message);
            assertThat(c.command(".")).startsWith("250");
            assertThat(c.command("QUIT")).startsWith("221");
        }
        StoredMessage stored = Mailboxes.awaitDelivered(stack, bob, marker);
        assertThat(stored.content()).as("Dovecot's copy ends with what was sent").endsWith(message);
    }
}
