package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.ProviderLogin;
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
 * Local authentication against Dovecot and Postfix with real clients: with {@code local-auth = always} alice sends
 * (smtplib) and bob reads (imaplib, curl) with their local passwords only; the proxy logs in to the provider with the
 * provider passwords it keeps sealed in data-dir. The provider passwords do not open the proxy, and a wrong local
 * password is refused before the provider hears of it.
 */
@RequiresMailStack
class LocalAuthE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String PASSPHRASE = "local auth keeps provider passwords sealed";

    @TempDir
    Path dir;


    /** The account's key, its provider login sealed to it, and its local password. */
    private String[] provision(Path data, Keyring ring, MailUser user) throws Exception {
        KeyInfo key = ring.generate(user.email(), PASSPHRASE.toCharArray(), KeyVersion.V4);
        Path pass = dir.resolve(user.login() + ".pass");
        Files.writeString(pass, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        AccountSecrets secrets = AccountSecrets.open(data);
        secrets.storeProviderLogin(user.email(), new ProviderLogin(user.login(),
                user.password().getBytes(StandardCharsets.UTF_8)), ring, key.fingerprint());
        return new String[]{key.fingerprint(), "key.passphrase-file = \"" + pass + "\"", secrets.localPassword(user.email())};
    }

    @Test
    void clientsUseLocalPasswordsAndTheProviderSeesTheStoredOnes(MailStack stack) throws Exception {
        Tool python = Tool.require("python3");
        Tool curl = Tool.require("curl");
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        Keyring ring = Keyring.open(data.resolve("keys"));
        String[] aliceAuth = provision(data, ring, alice);
        String[] bobAuth = provision(data, ring, bob);

        String marker = "localauth-" + UUID.randomUUID();
        byte[] message = TestMessages.eightBit(alice.email(), bob.email(), marker);
        Path messageFile = dir.resolve("message.eml");
        Files.write(messageFile, message);
        Path script = Tool.stdlibClient(dir);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, RunningProxy.Local.STARTTLS,
                RunningProxy.Upstream.IMPLICIT, "local-auth = always",
                Map.of(alice.email(), aliceAuth[1], bob.email(), bobAuth[1]))) {
            List<String> send = List.of(script.toString(), "send", "127.0.0.1", Integer.toString(proxy.smtpPort()),
                    "starttls", proxy.localCert().toString(), alice.email(), bob.email(), messageFile.toString());
            Tool.Result refused = python.run(dir, TIMEOUT, send,
                    (alice.password() + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(refused.exit()).as("the provider password does not open the proxy").isNotZero();
            assertThat(refused.describe()).contains("535");

            Tool.Result sent = python.run(dir, TIMEOUT, send, (aliceAuth[2] + "\n").getBytes(StandardCharsets.UTF_8),
                    Map.of());
            assertThat(sent.exit()).as(sent.describe()).isZero();
            StoredMessage stored = Mailboxes.awaitDelivered(stack, bob, marker);
            assertThat(stored.text()).as("what the provider keeps").contains("multipart/encrypted")
                    .doesNotContain("8bit " + marker);

            Tool.Result fetched = python.run(dir, TIMEOUT, List.of(script.toString(), "fetch", "127.0.0.1",
                    Integer.toString(proxy.imapPort()), "starttls", proxy.localCert().toString(), bob.email(),
                    "<" + marker + "@example.test>"), (bobAuth[2] + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(fetched.exit()).as(fetched.describe()).isZero();
            assertThat(new String(fetched.stdout(), StandardCharsets.UTF_8)).contains("8bit " + marker)
                    .contains("X-Mailproxy-Status: decrypted; integrity=ok; signature=valid; signer=" + aliceAuth[0]);

            List<String> curlArgs = List.of("-s", "-S", "--max-time", "30", "--ssl-reqd", "--cacert",
                    proxy.localCert().toString(), "--url", "imap://127.0.0.1:" + proxy.imapPort() + "/");
            Tool.Result listed = curl.run(dir, TIMEOUT, concat(curlArgs, "--user", bob.login() + ":" + bobAuth[2]));
            assertThat(listed.exit()).as(listed.describe()).isZero();
            assertThat(listed.out()).contains("INBOX");
            Tool.Result wrong = curl.run(dir, TIMEOUT, concat(curlArgs, "--user", bob.login() + ":" + bob.password()));
            assertThat(wrong.exit()).as(wrong.describe()).isEqualTo(67); // CURLE_LOGIN_DENIED
            Tool.Result swapped = curl.run(dir, TIMEOUT, concat(curlArgs, "--user", bob.login() + ":" + aliceAuth[2]));
            assertThat(swapped.exit()).as("alice's local password is not bob's").isEqualTo(67);
        }
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
