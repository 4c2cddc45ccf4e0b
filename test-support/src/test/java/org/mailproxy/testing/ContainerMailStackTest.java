package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The container stack: the shared contract plus what differs in a container. Skipped where no engine runs. */
@RequiresContainerMailStack
class ContainerMailStackTest extends UpstreamStackContract {

    private final ContainerMailStack stack;

    ContainerMailStackTest(ContainerMailStack stack) {
        this.stack = stack;
    }

    @Override
    UpstreamStack stack() {
        return stack;
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
