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
        Daemon[] d = new Daemon[1];
        List<String> log = logOf(() -> d[0] = start("key.passphrase-file = " + q(keys.passphraseFile), Map.of()));
        assertThat(d[0].context().accountKeys().key(ALICE)).map(k -> k.fingerprint()).contains(keys.alice.fingerprint());
        assertThat(log).contains("account " + ALICE + ": key " + keys.alice.fingerprint() + " unlocked")
                .noneMatch(l -> l.contains(KeyFixture.PASSPHRASE));
        // stopping drops the unlocked key
        d[0].stop();
        assertThat(d[0].context().accountKeys().isUnlocked(ALICE)).isFalse();
    }

    @Test
    void aPassphraseFileBehindASymbolicLinkIsJudgedByItsTarget() throws Exception {
        // Kubernetes mounts secrets as links into a hidden directory; the link's own mode is rwxrwxrwx
        Path link = Files.createSymbolicLink(tmp.resolve("linked-pass"), keys.passphraseFile);
        Daemon d = start("key.passphrase-file = " + q(link), Map.of());
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isTrue();
        d.stop();
        Files.setPosixFilePermissions(keys.passphraseFile, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> start("key.passphrase-file = " + q(link), Map.of()))
                .hasMessageContaining("readable by other users; fix it with: chmod 600 " + keys.passphraseFile);
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

    /** The daemon's log lines while {@code body} runs. */
    private static List<String> logOf(ThrowingRunnable body) throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Daemon.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            body.run();
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void withoutAPassphraseSourceTheKeyStartsLockedAndWithoutAKeyNothingFails() throws Exception {
        Daemon[] d = new Daemon[1];
        List<String> log = logOf(() -> d[0] = start("", Map.of()));
        assertThat(d[0].context().accountKeys().status(ALICE).state()).isEqualTo(AccountKeys.State.LOCKED);
        assertThat(log).contains("account " + ALICE + ": key locked; run `mailproxy keys unlock " + ALICE + "`");
        d[0].stop();

        assertThat(keys.dataDir.resolve("keys/secret/" + keys.alice.fingerprint() + ".pgp").toFile().delete()).isTrue();
        assertThat(keys.dataDir.resolve("keys/certs/" + keys.alice.fingerprint() + ".pgp").toFile().delete()).isTrue();
        // a passphrase source without any key is not fatal either: there is nothing to unlock
        Daemon[] none = new Daemon[1];
        List<String> noKeyLog = logOf(() -> none[0] = start("key.passphrase-file = " + q(keys.passphraseFile), Map.of()));
        assertThat(none[0].context().accountKeys().status(ALICE).state()).isEqualTo(AccountKeys.State.NO_SECRET_KEY);
        assertThat(noKeyLog).anyMatch(l -> l.startsWith("account " + ALICE + ": no secret key, so decryption and signing "
                + "are unavailable for it"));
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
