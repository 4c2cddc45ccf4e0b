package org.mailproxy.app;

import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.mailproxy.app.TestFiles.q;

/**
 * An owner-only data directory whose keyring holds a secret key for {@link #ALICE}, a passphrase file, and
 * configurations for a daemon with that account (listeners on free ports, no metrics, no local TLS).
 */
final class KeyFixture {
    static final String ALICE = "alice@example.test";
    static final String PASSPHRASE = "correct horse battery staple";

    final Path tmp;
    final Path dataDir;
    final KeyInfo alice;
    final Path passphraseFile;

    KeyFixture(Path tmp) throws Exception {
        this.tmp = tmp;
        this.dataDir = TestFiles.dataDir(tmp);
        this.alice = Keyring.open(dataDir.resolve("keys")).generate(ALICE, PASSPHRASE.toCharArray(), KeyVersion.V4);
        this.passphraseFile = ownerOnly("pass", PASSPHRASE + "\n");
    }

    Path ownerOnly(String name, String text) throws Exception {
        Path f = TestFiles.write(tmp, name, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /** The configuration file; {@code accountExtra} is added inside the account block (e.g. a key block). */
    Path configFile(String accountExtra) throws Exception {
        return TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(dataDir) + "\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = off\n"
                + "  local-tls.mode = off\n"
                + "  shutdown.grace-period = 1s\n"
                + "  accounts = [ { email = \"" + ALICE + "\", imap.upstream = \"imaps://127.0.0.1:1\",\n"
                + "                 smtp.upstream = \"smtps://127.0.0.1:1\"\n"
                + "                 " + accountExtra + " } ]\n"
                + "}\n");
    }

    MailproxyConfig config(String accountExtra) throws Exception {
        return new ConfigLoader(Map.of()).load(configFile(accountExtra));
    }

    /** A daemon with listeners that relay nothing, in this JVM. */
    static Daemon start(MailproxyConfig config, Map<String, String> env) {
        return Daemon.start(config, env, c -> FakeListener.imap(c), c -> FakeListener.smtp(c));
    }
}
