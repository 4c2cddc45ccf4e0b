package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The container stack: the shared contract plus what differs in a container. Skipped where no engine runs. */
@Tag("container")
class ContainerMailStackTest extends UpstreamStackContract {

    private ContainerMailStack stack;

    /** Per test, not in {@code @BeforeAll}: Surefire shows the skip reason only for tests that were aborted. */
    @BeforeEach
    void startContainer() {
        stack = ContainerMailStack.require();
    }

    @Override
    UpstreamStack stack() {
        return ContainerMailStack.require();
    }

    /** Seen from another address, Dovecot refuses plaintext LOGIN before STARTTLS (RFC 3501 6.2.3, 7.2.1). */
    @Test
    void loginIsDisabledBeforeStarttls() throws IOException {
        try (LineClient imap = LineClient.plain(stack.host(), stack.imapStarttlsPort())) {
            assertThat(imap.readLine()).startsWith("* OK").contains("STARTTLS").contains("LOGINDISABLED");
            MailUser alice = stack.alice();
            assertThat(imap.command("a", "LOGIN " + alice.login() + " " + alice.password())).startsWith("a NO");
        }
    }
}
