package org.mailproxy.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigError;
import org.mailproxy.core.crypto.openpgp.AccountKeys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.app.KeyFixture.ALICE;
import static org.mailproxy.app.TestFiles.q;

/**
 * The account keys at daemon start: unlocked from a passphrase file or a systemd credential, a wrong passphrase or
 * an unreadable source refusing the start with one line, locked or absent keys not being errors, and key material
 * others can read refusing the start (SECURITY.md 23).
 */
class DaemonKeysTest {

    @TempDir
    Path tmp;

    private KeyFixture keys;
    private final List<Daemon> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        keys = new KeyFixture(tmp);
    }

    @AfterEach
    void stopAll() {
        started.forEach(Daemon::stop);
    }

    private Daemon start(String accountExtra, Map<String, String> env) throws Exception {
        Daemon d = KeyFixture.start(keys.config(accountExtra), env);
        started.add(d);
        return d;
    }

    @Test
    void aPassphraseFileUnlocksTheKeyAtStart() throws Exception {
        Daemon d = start("key.passphrase-file = " + q(keys.passphraseFile), Map.of());
        assertThat(d.context().accountKeys().key(ALICE)).map(k -> k.fingerprint()).contains(keys.alice.fingerprint());
    }

    @Test
    void aSystemdCredentialUnlocksTheKeyAtStart() throws Exception {
        Path creds = Files.createDirectory(tmp.resolve("creds"));
        Files.writeString(creds.resolve("mailproxy-alice"), KeyFixture.PASSPHRASE);
        Daemon d = start("key { fingerprint = \"" + keys.alice.fingerprint() + "\", "
                + "passphrase-credential = \"mailproxy-alice\" }", Map.of("CREDENTIALS_DIRECTORY", creds.toString()));
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isTrue();
    }

    @Test
    void aWrongPassphraseStopsTheStartWithOneLineNamingTheSetting() throws Exception {
        Path wrong = keys.ownerOnly("wrong", "Tr0ub4dor&3\n");
        assertThatThrownBy(() -> start("key.passphrase-file = " + q(wrong), Map.of()))
                .isInstanceOf(ConfigError.class)
                .hasMessage("mailproxy.conf:10: mailproxy.accounts[0].key.passphrase-file: account " + ALICE
                        + ": wrong passphrase for key " + keys.alice.fingerprint());
        // nothing was left listening: the control socket is gone again
        assertThat(Files.exists(keys.dataDir.resolve("control.sock"))).isFalse();
    }

    @Test
    void aMissingOrExposedPassphraseFileOrCredentialStopsTheStart() throws Exception {
        Path missing = tmp.resolve("nope");
        assertThatThrownBy(() -> start("key.passphrase-file = " + q(missing), Map.of()))
                .hasMessageStartingWith("mailproxy.conf:10: mailproxy.accounts[0].key.passphrase-file: account "
                        + ALICE + ": cannot read the passphrase: " + missing + ": no such password file");
        Path exposed = keys.ownerOnly("exposed", KeyFixture.PASSPHRASE);
        Files.setPosixFilePermissions(exposed, PosixFilePermissions.fromString("rw-r-----"));
        assertThatThrownBy(() -> start("key.passphrase-file = " + q(exposed), Map.of()))
                .hasMessageContaining("readable by other users; fix it with: chmod 600");
        assertThatThrownBy(() -> start("key.passphrase-credential = \"mailproxy-alice\"", Map.of()))
                .hasMessageContaining("mailproxy.accounts[0].key.passphrase-credential: account " + ALICE
                        + ": cannot read the passphrase: CREDENTIALS_DIRECTORY is not set");
    }

    @Test
    void runFailsWithOneLineAndANonZeroExit() throws Exception {
        Path wrong = keys.ownerOnly("wrong", "Tr0ub4dor&3\n");
        Path conf = keys.configFile("key.passphrase-file = " + q(wrong));
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "run", "--config", conf.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("mailproxy.conf:10: mailproxy.accounts[0].key.passphrase-file: account " + ALICE
                + ": wrong passphrase for key " + keys.alice.fingerprint() + System.lineSeparator());
    }

    @Test
    void withoutAPassphraseSourceTheKeyStartsLockedAndWithoutAKeyNothingFails() throws Exception {
        Daemon d = start("", Map.of());
        assertThat(d.context().accountKeys().status(ALICE).state()).isEqualTo(AccountKeys.State.LOCKED);
        d.stop();

        assertThat(keys.dataDir.resolve("keys/secret/" + keys.alice.fingerprint() + ".pgp").toFile().delete()).isTrue();
        assertThat(keys.dataDir.resolve("keys/certs/" + keys.alice.fingerprint() + ".pgp").toFile().delete()).isTrue();
        // a passphrase source without any key is not fatal either: there is nothing to unlock
        Daemon none = start("key.passphrase-file = " + q(keys.passphraseFile), Map.of());
        assertThat(none.context().accountKeys().status(ALICE).state()).isEqualTo(AccountKeys.State.NO_SECRET_KEY);
    }

    @Test
    void aConfiguredFingerprintThatIsMissingStopsTheStartWhenUnlockingWasAskedFor() throws Exception {
        assertThatThrownBy(() -> start("key { fingerprint = \"" + "AB".repeat(20) + "\", passphrase-file = "
                + q(keys.passphraseFile) + " }", Map.of()))
                .hasMessageContaining("key.fingerprint " + "AB".repeat(20) + " is not in the keyring");
    }

    @Test
    void aSecretKeyFileOthersCanReadStopsTheStart() throws Exception {
        Path secret = keys.dataDir.resolve("keys/secret/" + keys.alice.fingerprint() + ".pgp");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> start("", Map.of()))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining(secret + " is accessible to its group and other users");
    }
}
