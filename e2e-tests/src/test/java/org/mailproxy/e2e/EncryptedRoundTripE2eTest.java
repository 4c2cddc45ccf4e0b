package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole promise in one run, with Python's standard library on both ends: alice sends bob a message through the
 * proxy's SMTP side (smtplib), the provider stores only ciphertext, and bob reads it back through the proxy's IMAP
 * side (imaplib: SEARCH by Message-ID, then BODY[]) as the message alice sent: every header field she wrote, the
 * 8-bit body octet for octet, and the proxy's status field saying alice's signature is valid.
 */
@RequiresMailStack
class EncryptedRoundTripE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String PASSPHRASE = "round trip: both ends have keys";

    @TempDir
    Path dir;


    private String keyFor(Keyring ring, MailUser user) throws Exception {
        KeyInfo key = ring.generate(user.email(), PASSPHRASE.toCharArray(), KeyVersion.V4);
        Path pass = dir.resolve(user.login() + ".pass");
        Files.writeString(pass, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        return key.fingerprint() + "|key.passphrase-file = \"" + pass + "\"";
    }

    @Test
    void bobReadsThroughTheProxyWhatAliceSentThroughIt(MailStack stack) throws Exception {
        Tool python = Tool.require("python3");
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Keyring ring = Keyring.open(data.resolve("keys"));
        String[] aliceKey = keyFor(ring, alice).split("\\|");
        String[] bobKey = keyFor(ring, bob).split("\\|");

        String marker = "roundtrip-" + UUID.randomUUID();
        byte[] message = TestMessages.eightBit(alice.email(), bob.email(), marker);
        Path messageFile = dir.resolve("message.eml");
        Files.write(messageFile, message);
        Path script = Tool.stdlibClient(dir);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, RunningProxy.Local.STARTTLS,
                RunningProxy.Upstream.IMPLICIT, "", Map.of(alice.email(), aliceKey[1], bob.email(), bobKey[1]))) {
            Tool.Result sent = python.run(dir, TIMEOUT, List.of(script.toString(), "send", "127.0.0.1",
                    Integer.toString(proxy.smtpPort()), "starttls", proxy.localCert().toString(), alice.login(),
                    bob.email(), messageFile.toString()), (alice.password() + "\n").getBytes(StandardCharsets.UTF_8),
                    Map.of());
            assertThat(sent.exit()).as(sent.describe()).isZero();

            StoredMessage stored = Mailboxes.awaitDelivered(stack, bob, marker);
            assertThat(stored.text()).as("what the provider keeps").contains("multipart/encrypted")
                    .doesNotContain("Grüße", "8bit " + marker);

            Tool.Result fetched = python.run(dir, TIMEOUT, List.of(script.toString(), "fetch", "127.0.0.1",
                    Integer.toString(proxy.imapPort()), "starttls", proxy.localCert().toString(), bob.login(),
                    "<" + marker + "@example.test>"), (bob.password() + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(fetched.exit()).as(fetched.describe()).isZero();
            byte[] shown = fetched.stdout();
            String text = new String(shown, StandardCharsets.UTF_8);
            String original = new String(message, StandardCharsets.UTF_8);
            int sentBody = original.indexOf("\r\n\r\n") + 4;
            int shownBody = text.indexOf("\r\n\r\n") + 4;
            assertThat(text.substring(shownBody)).as("the body bob reads").isEqualTo(original.substring(sentBody));
            String header = text.substring(0, shownBody);
            for (String field : original.substring(0, sentBody - 2).split("\r\n")) {
                if (field.startsWith("Content-Type:")) {
                    // the inner entity's type, which RFC 9788 marks as carrying the protected header
                    assertThat(header).contains("Content-Type: text/plain; charset=utf-8;\r\n hp=\"cipher\"");
                } else {
                    assertThat(header).as("bob's header holds alice's " + field).contains(field + "\r\n");
                }
            }
            assertThat(header).contains("X-Mailproxy-Status: decrypted; integrity=ok; signature=valid; signer="
                    + aliceKey[0] + "\r\n");
        }
    }
}
