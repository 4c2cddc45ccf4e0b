package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Python's smtplib and imaplib (a script in this package's test resources) send a message to its own author through
 * the proxy and fetch it back: the octets sent reach Dovecot unchanged, and BODY[] read through the proxy equals
 * Dovecot's file.
 */
@RequiresMailStack
class PythonStdlibE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;


    private void roundTrip(MailStack stack, Local local, Upstream upstream) throws IOException {
        Tool python = Tool.require("python3");
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.eightBit(alice.email(), alice.email(), marker);
        Path messageFile = dir.resolve("message.eml");
        Files.write(messageFile, message);
        String mode = switch (local) {
            case OFF -> "plain";
            case STARTTLS -> "starttls";
            case IMPLICIT -> "implicit";
        };
        byte[] password = (alice.password() + "\n").getBytes(StandardCharsets.UTF_8);
        Path script = Tool.stdlibClient(dir);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            Tool.Result sent = python.run(dir, TIMEOUT, List.of(script.toString(), "send", "127.0.0.1",
                    Integer.toString(proxy.smtpPort()), mode, proxy.localCert().toString(), alice.login(),
                    alice.email(), messageFile.toString()), password, Map.of());
            assertThat(sent.exit()).as(sent.describe()).isZero();
            StoredMessage stored = Mailboxes.awaitDelivered(stack, alice, marker);
            assertThat(stored.content()).as("Dovecot's copy ends with what smtplib sent").endsWith(message);

            Tool.Result fetched = python.run(dir, TIMEOUT, List.of(script.toString(), "fetch", "127.0.0.1",
                    Integer.toString(proxy.imapPort()), mode, proxy.localCert().toString(), alice.login(),
                    "<" + marker + "@example.test>"), password, Map.of());
            assertThat(fetched.exit()).as(fetched.describe()).isZero();
            assertThat(fetched.stdout()).as("BODY[] through the proxy vs Dovecot's file").isEqualTo(stored.content());
        }
    }

    @Test
    void starttlsToTheProxy(MailStack stack) throws IOException {
        roundTrip(stack, Local.STARTTLS, Upstream.STARTTLS);
    }

    @Test
    void implicitTlsToTheProxy(MailStack stack) throws IOException {
        roundTrip(stack, Local.IMPLICIT, Upstream.IMPLICIT);
    }
}
