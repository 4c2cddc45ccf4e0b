package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The loopback stack: the shared contract plus what only the loopback stack offers. */
@RequiresMailStack
class MailStackTest extends UpstreamStackContract {

    private final MailStack stack;

    MailStackTest(MailStack stack) {
        this.stack = stack;
    }

    @Override
    UpstreamStack stack() {
        return stack;
    }

    @Test
    void isOneInstancePerJvmOnLoopbackWithItsFilesInTheRunDirectory() throws IOException {
        assertThat(MailStack.get()).isSameAs(stack);
        assertThat(stack.host()).isEqualTo("localhost");
        assertThat(TestCa.certFile()).isEqualTo(stack.caCertFile());
        assertThat(Files.readString(stack.caCertFile())).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(Files.readString(stack.serverKeyFile())).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(stack.logDir().resolve("dovecot.log")).exists();
        assertThat(stack.logDir().resolve("postfix.log")).exists();
        assertThat(stack.maildir(stack.alice()))
                .isEqualTo(stack.runDir().resolve("mail/alice@example.test/Maildir"));
    }

    @Test
    void messagesAreReadFromTheMaildirOnDisk() {
        MailUser bob = stack.bob();
        stack.clearMailbox(bob);
        byte[] first = "Subject: one\r\n\r\n1\r\n".getBytes(StandardCharsets.UTF_8);
        byte[] second = "Subject: two\r\n\r\n2\r\n".getBytes(StandardCharsets.UTF_8);
        stack.deliver(bob, first);
        stack.deliver(bob, second);
        assertThat(stack.messages(bob, "INBOX"))
                .extracting(StoredMessage::text)
                .containsExactly("Subject: one\r\n\r\n1\r\n", "Subject: two\r\n\r\n2\r\n");
        assertThat(stack.messages(bob, "INBOX")).allSatisfy(m -> {
            assertThat(m.file()).startsWith(stack.maildir(bob));
            assertThat(m.seen()).isFalse();
        });
    }
}
