package org.mailproxy.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.MailproxyConfig;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.app.KeyFixture.ALICE;
import static org.mailproxy.app.KeyFixture.PASSPHRASE;

/**
 * {@code mailproxy keys unlock} and {@code keys status} against a running daemon over its control socket, and the
 * socket's defences: owner-only, bounded lines, garbage answered with an error while the daemon keeps serving.
 */
class ControlSocketTest {

    @TempDir
    Path tmp;

    private KeyFixture keys;
    private Path conf;
    private final List<Daemon> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        keys = new KeyFixture(tmp);
        conf = keys.configFile("");
    }

    @AfterEach
    void stopAll() {
        started.forEach(Daemon::stop);
    }

    private Daemon start() throws Exception {
        MailproxyConfig config = keys.config("");
        Daemon d = KeyFixture.start(config, Map.of());
        started.add(d);
        return d;
    }

    private TestFiles.Run cli(Main.PasswordPrompt terminal, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--config", conf.toString()));
        return TestFiles.mailproxy(Map.of(), tmp, terminal, all.toArray(String[]::new));
    }

    /** Sends raw bytes as a client would and returns the whole answer. */
    private String raw(Path socket, byte[] request) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ByteBuffer out = ByteBuffer.wrap(request);
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ch.shutdownOutput();
            ByteBuffer in = ByteBuffer.allocate(65536);
            while (ch.read(in) >= 0) {
                // until the daemon closes
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void unlockWithTheRightPassphraseFromAFileHandsTheKeyToTheDaemon() throws Exception {
        Daemon d = start();
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isFalse();
        assertThat(cli(null, "keys", "status").out())
                .isEqualTo(ALICE + "  locked  " + keys.alice.fingerprint() + System.lineSeparator());

        // EMAIL may be left out: the daemon has one account
        TestFiles.Run r = cli(null, "keys", "unlock", "--passphrase-file", keys.passphraseFile.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("unlocked " + ALICE + " (key " + keys.alice.fingerprint() + ")");
        assertThat(d.context().accountKeys().key(ALICE)).map(k -> k.fingerprint()).contains(keys.alice.fingerprint());
        assertThat(cli(null, "keys", "status").out()).contains(ALICE + "  unlocked  " + keys.alice.fingerprint());
    }

    @Test
    void aWrongPassphraseTypedAtTheTerminalIsRefusedAndTheKeyStaysLocked() throws Exception {
        Daemon d = start();
        TestFiles.Run wrong = cli(p -> "not it".toCharArray(), "keys", "unlock", ALICE);
        assertThat(wrong.exitCode()).isEqualTo(1);
        assertThat(wrong.err()).contains("wrong passphrase for the key of " + ALICE + "; it stays locked");
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isFalse();

        TestFiles.Run right = cli(p -> PASSPHRASE.toCharArray(), "keys", "unlock", ALICE);
        assertThat(right.exitCode()).as(right.err()).isZero();
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isTrue();

        TestFiles.Run nobody = cli(p -> PASSPHRASE.toCharArray(), "keys", "unlock", "bob@example.test");
        assertThat(nobody.exitCode()).isEqualTo(2);
        assertThat(nobody.err()).contains("the running mailproxy has no account bob@example.test (it has: " + ALICE + ")");
        // never from argv
        assertThat(cli(null, "keys", "unlock", ALICE, "--passphrase", PASSPHRASE).exitCode()).isEqualTo(2);
    }

    @Test
    void hostileClientsGetAnErrorAndTheDaemonKeepsServing() throws Exception {
        Daemon d = start();
        Path sock = d.controlSocket();
        byte[] longLine = new byte[ControlSocket.MAX_LINE + 100];
        Arrays.fill(longLine, (byte) 'A');
        assertThat(raw(sock, longLine)).isEqualTo("ERR line-too-long\n");
        assertThat(raw(sock, new byte[]{0, (byte) 0xff, 1, '\n'})).isEqualTo("ERR bad-request\n");
        assertThat(raw(sock, "STATUS please\n".getBytes(StandardCharsets.US_ASCII))).isEqualTo("ERR bad-request\n");
        assertThat(raw(sock, "UNLOCK\n".getBytes(StandardCharsets.US_ASCII))).isEqualTo("ERR bad-request\n");
        assertThat(raw(sock, ("UNLOCK " + ALICE + "\n").getBytes(StandardCharsets.US_ASCII))).isEqualTo("ERR bad-request\n");
        // no LF before the client stops sending: no request, no answer
        assertThat(raw(sock, ("UNLOCK " + ALICE + " " + PASSPHRASE).getBytes(StandardCharsets.US_ASCII))).isEmpty();
        byte[] badUtf8 = ("UNLOCK " + ALICE + " \u00ff\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThat(raw(sock, badUtf8)).isEqualTo("ERR bad-request\n");
        assertThat(raw(sock, ("UNLOCK not-an-address " + PASSPHRASE + "\n").getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("ERR bad-request\n");
        assertThat(raw(sock, ("UNLOCK bob@example.test " + PASSPHRASE + "\n").getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("ERR no-such-account\n");
        assertThat(raw(sock, ("UNLOCK " + ALICE + " wrong\n").getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("ERR wrong-passphrase\n");
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isFalse();

        // a client that connects and says nothing does not stop others
        try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            assertThat(raw(sock, "STATUS\n".getBytes(StandardCharsets.US_ASCII)))
                    .isEqualTo("ACCOUNT " + ALICE + " locked " + keys.alice.fingerprint() + "\nOK\n");
            // the passphrase may hold spaces: everything after the address is the passphrase
            assertThat(raw(sock, ("UNLOCK " + ALICE + " " + PASSPHRASE + "\n").getBytes(StandardCharsets.UTF_8)))
                    .isEqualTo("OK " + keys.alice.fingerprint() + "\n");
        }
        assertThat(d.context().accountKeys().isUnlocked(ALICE)).isTrue();
    }

    @Test
    void anAccountWithoutAKeyIsAnsweredWithWhatToDo() throws Exception {
        Daemon d = start();
        Files.delete(keys.dataDir.resolve("keys/secret/" + keys.alice.fingerprint() + ".pgp"));
        assertThat(raw(d.controlSocket(), ("UNLOCK " + ALICE + " " + PASSPHRASE + "\n").getBytes(StandardCharsets.UTF_8)))
                .startsWith("ERR no-key account " + ALICE + ": no secret key with a user ID for " + ALICE);
        TestFiles.Run r = cli(p -> PASSPHRASE.toCharArray(), "keys", "unlock", ALICE);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("mailproxy keys generate --email " + ALICE);
    }

    @Test
    void aClientThatSendsNoLineIsDisconnectedAtTheDeadline() throws Exception {
        MailproxyConfig config = keys.config("");
        try (ControlSocket s = ControlSocket.start(config, keys.dataDir,
                org.mailproxy.core.crypto.openpgp.AccountKeys.empty(), java.time.Duration.ofMillis(200));
             SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(s.path()))) {
            silent.write(ByteBuffer.wrap("STAT".getBytes(StandardCharsets.US_ASCII)));
            // blocks until the daemon gives up on the request and closes
            assertThat(silent.read(ByteBuffer.allocate(16))).isEqualTo(-1);
            assertThat(raw(s.path(), "STATUS\n".getBytes(StandardCharsets.US_ASCII))).isEqualTo("OK\n");
        }
    }

    @Test
    void theSocketIsOwnerOnlyInsideAnOwnerOnlyDirectoryAndGoesAwayOnStop() throws Exception {
        Daemon d = start();
        Path sock = d.controlSocket();
        assertThat(sock).isEqualTo(keys.dataDir.resolve("control.sock"));
        // Another user needs search permission on the directory and write permission on the socket to connect;
        // both are withheld.
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock, LinkOption.NOFOLLOW_LINKS)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.dataDir))).isEqualTo("rwx------");
        // the data-dir check (SECURITY.md 23) still passes with the socket in it
        DataDirectory.verify(d.config());
        d.stop();
        assertThat(Files.exists(sock, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void aStaleSocketIsReplacedAndALiveOneRefused() throws Exception {
        Path sock = keys.dataDir.resolve("control.sock");
        try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            crashed.bind(UnixDomainSocketAddress.of(sock));
        }
        Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.exists(sock, LinkOption.NOFOLLOW_LINKS)).isTrue();
        TestFiles.Run stale = cli(null, "keys", "status");
        assertThat(stale.exitCode()).isEqualTo(1);
        assertThat(stale.err()).contains("mailproxy is not running").contains("left from a daemon that stopped");

        start();
        assertThat(cli(null, "keys", "status").exitCode()).isZero();
        assertThatThrownBy(this::start).isInstanceOf(ConfigError.class)
                .hasMessageContaining("another mailproxy is running with this data directory");
        assertThat(cli(null, "keys", "status").exitCode()).isZero();
    }

    @Test
    void withoutADaemonUnlockAndStatusSaySoBeforeAskingForAPassphrase() throws Exception {
        int[] asked = {0};
        TestFiles.Run r = cli(p -> {
            asked[0]++;
            return PASSPHRASE.toCharArray();
        }, "keys", "unlock", ALICE);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("mailproxy is not running (no control socket " + keys.dataDir.resolve("control.sock"));
        assertThat(asked[0]).isZero();
        assertThat(cli(null, "keys", "status").err()).contains("mailproxy is not running");
    }
}
