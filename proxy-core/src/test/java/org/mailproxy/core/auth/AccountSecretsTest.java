package org.mailproxy.core.auth;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Local passwords and the provider login kept in data-dir for local authentication. */
class AccountSecretsTest {
    static final char[] PASS = "correct horse".toCharArray();
    static final String EMAIL = "Alice@Example.org";

    @TempDir
    static Path keysRoot;
    static Keyring keyring;
    static KeyInfo own;
    static UnlockedKey ownUnlocked;
    static UnlockedKey other;

    @TempDir
    Path dataDir;

    @BeforeAll
    static void keys() throws Exception {
        Path keysDir = keysRoot.resolve("keys");
        keyring = Keyring.open(keysDir);
        own = keyring.generate("alice@example.org", PASS, KeyVersion.V4);
        ownUnlocked = keyring.unlock(own.fingerprint(), PassphraseSource.ofChars(PASS));
        KeyInfo replacement = keyring.generate("alice@example.org", PASS, KeyVersion.V4);
        other = keyring.unlock(replacement.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    @Test
    void generatedLocalPasswordsHave144RandomBitsAndAreStoredOwnerOnly() throws Exception {
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        assertThat(secrets.existingLocalPassword(EMAIL)).isEmpty();
        String first = secrets.localPassword(EMAIL);
        assertThat(Base64.getUrlDecoder().decode(first)).hasSize(18);
        assertThat(secrets.localPassword("alice@example.ORG")).isEqualTo(first);
        Path file = dataDir.resolve("accounts/alice@example.org/local-password");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent().getParent())))
                .isEqualTo("rwx------");

        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            String p = secrets.resetLocalPassword(EMAIL);
            assertThat(AccountSecrets.estimatedBits(p)).isGreaterThanOrEqualTo(AccountSecrets.MIN_LOCAL_PASSWORD_BITS);
            seen.add(p);
        }
        assertThat(seen).hasSize(50);
    }

    @Test
    void onlyTheCurrentLocalPasswordMatches() throws Exception {
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        assertThat(secrets.checkLocalPassword(EMAIL, new byte[0])).as("no password yet").isFalse();
        String p = secrets.localPassword(EMAIL);
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(p))).isTrue();
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(p + "x"))).isFalse();
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(p.substring(1)))).isFalse();
        assertThat(secrets.checkLocalPassword(EMAIL, new byte[0])).isFalse();
        assertThat(secrets.checkLocalPassword("bob@example.org", bytes(p))).isFalse();
        String next = secrets.resetLocalPassword(EMAIL);
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(p))).as("reset takes effect at once").isFalse();
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(next))).isTrue();
    }

    @Test
    void weakOrUnprintableLocalPasswordsAreRefused() throws Exception {
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        for (String weak : new String[]{"password", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "abababababababababababababababababababababababababab", "Tr0ub4dor&3", "0123456789012345"}) {
            assertThatThrownBy(() -> secrets.setLocalPassword(EMAIL, weak)).as(weak)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bits");
        }
        assertThatThrownBy(() -> secrets.setLocalPassword(EMAIL, "Xk3 9fQ2mP7vR1tY8wZ4nB6cD0eG5hJ"))
                .hasMessageContaining("without spaces");
        assertThat(secrets.existingLocalPassword(EMAIL)).isEmpty();
        // what `openssl rand -base64 24` prints
        String strong = "q8M2xP0vWf7r3B+9kLz1sT6YhJc4dNe/";
        secrets.setLocalPassword(EMAIL, strong + "\n");
        assertThat(secrets.checkLocalPassword(EMAIL, bytes(strong))).isTrue();
    }

    @Test
    void providerLoginIsSealedToTheAccountKeyAndReadsBackOnlyWithIt() throws Exception {
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        assertThat(secrets.hasProviderLogin(EMAIL)).isFalse();
        assertThat(secrets.providerLogin(EMAIL, keyring, ownUnlocked)).isEmpty();
        String canary = "pr0vider-S3cret-canary";
        secrets.storeProviderLogin(EMAIL, new ProviderLogin("alice", bytes(canary)), keyring, own.fingerprint());
        assertThat(secrets.hasProviderLogin(EMAIL)).isTrue();

        Path file = dataDir.resolve("accounts/alice@example.org/provider-login.pgp");
        byte[] stored = Files.readAllBytes(file);
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(canary).doesNotContain("alice");
        assertThat(stored[0] & 0x80).as("an OpenPGP packet").isEqualTo(0x80);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");

        ProviderLogin back = secrets.providerLogin(EMAIL, keyring, ownUnlocked).orElseThrow();
        assertThat(back.login()).isEqualTo("alice");
        assertThat(new String(back.password(), StandardCharsets.UTF_8)).isEqualTo(canary);
        assertThat(back.toString()).doesNotContain(canary);
        back.erase();
        assertThat(back.password()).containsOnly(0);

        assertThat(secrets.providerLogin(EMAIL, keyring, other)).as("another key cannot read it").isEmpty();
        Files.write(file, new byte[]{(byte) 0x99, 1, 2, 3});
        assertThat(secrets.providerLogin(EMAIL, keyring, ownUnlocked)).as("damaged").isEmpty();
    }

    @Test
    void addressesCannotNameAPathOutsideTheAccountsDirectory() {
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        Path accounts = dataDir.resolve("accounts");
        for (String hostile : new String[]{"../../etc/passwd", "..", ".", "a/b@c", "x\0y@z", "ünï@example.org"}) {
            Path dir = secrets.dir(hostile);
            assertThat(dir.getParent()).as(hostile).isEqualTo(accounts);
            assertThat(dir.getFileName().toString()).as(hostile).doesNotContain("/").isNotIn(".", "..");
        }
    }

    @Test
    void providerLoginsWithNulAreRefused() {
        assertThatThrownBy(() -> new ProviderLogin("a\0b", bytes("x"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProviderLogin("a", new byte[]{'x', 0})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProviderLogin("", bytes("x"))).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
