package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.app.TestFiles.mailproxy;
import static org.mailproxy.app.TestFiles.q;

/** {@code mailproxy accounts}: local passwords and the provider password sealed in data-dir. */
class AccountsCommandTest {

    static final String PASSPHRASE = "correct horse battery staple";

    @TempDir
    Path tmp;

    private Path conf(String extra) throws Exception {
        return TestFiles.write(tmp, "m.conf", "mailproxy {\n data-dir = " + q(tmp.resolve("data")) + "\n"
                + " local-auth = always\n"
                + " accounts = [ { email = \"alice@example.test\", login = \"alice\", imap.upstream = "
                + "\"imaps://imap.example.test\", smtp.upstream = \"smtps://smtp.example.test\" } ]\n" + extra + "}\n");
    }

    private Path secretFile(String name, String content) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, content + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void showPasswordGeneratesOnceAndResetReplacesIt() throws Exception {
        String c = conf("").toString();
        TestFiles.Run first = mailproxy(Map.of(), tmp, "accounts", "show-password", "alice@example.test", "--config", c);
        assertThat(first.exitCode()).as(first.err()).isZero();
        String password = first.out().strip();
        assertThat(password).matches("[A-Za-z0-9_-]{24}");
        assertThat(mailproxy(Map.of(), tmp, "accounts", "show-password", "alice", "--config", c).out().strip())
                .as("by login too, and stable").isEqualTo(password);
        String reset = mailproxy(Map.of(), tmp, "accounts", "reset-password", "alice", "--config", c).out().strip();
        assertThat(reset).matches("[A-Za-z0-9_-]{24}").isNotEqualTo(password);
        assertThat(AccountSecrets.open(tmp.resolve("data")).checkLocalPassword("alice@example.test",
                reset.getBytes(StandardCharsets.US_ASCII))).isTrue();
        TestFiles.Run unknown = mailproxy(Map.of(), tmp, "accounts", "show-password", "bob@example.test", "--config", c);
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.err()).contains("no account bob@example.test");
    }

    @Test
    void setLocalPasswordTakesAStrongOneFromAnOwnerOnlyFile() throws Exception {
        String c = conf("").toString();
        TestFiles.Run weak = mailproxy(Map.of(), tmp, "accounts", "set-local-password", "alice", "--password-file",
                secretFile("weak", "hunter2hunter2").toString(), "--config", c);
        assertThat(weak.exitCode()).isNotZero();
        assertThat(weak.err()).contains("bits");

        Path shared = secretFile("strong", "q8M2xP0vWf7r3B+9kLz1sT6YhJc4dNe/");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
        TestFiles.Run exposed = mailproxy(Map.of(), tmp, "accounts", "set-local-password", "alice", "--password-file",
                shared.toString(), "--config", c);
        assertThat(exposed.exitCode()).isNotZero();
        assertThat(exposed.err()).contains("readable by other users");

        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-------"));
        TestFiles.Run ok = mailproxy(Map.of(), tmp, "accounts", "set-local-password", "alice", "--password-file",
                shared.toString(), "--config", c);
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(mailproxy(Map.of(), tmp, "accounts", "show-password", "alice", "--config", c).out().strip())
                .isEqualTo("q8M2xP0vWf7r3B+9kLz1sT6YhJc4dNe/");
    }

    @Test
    void providerPasswordIsSealedToTheAccountKeyFromAFileOrTheTerminal() throws Exception {
        Path c = conf("");
        String canary = "provider-Canary-" + System.nanoTime();
        TestFiles.Run noKey = mailproxy(Map.of(), tmp, "accounts", "set-provider-password", "alice", "--password-file",
                secretFile("provider", canary).toString(), "--config", c.toString());
        assertThat(noKey.exitCode()).isNotZero();
        assertThat(noKey.err()).contains("no key").contains("mailproxy keys generate --email alice@example.test");

        Path pass = secretFile("pass", PASSPHRASE);
        assertThat(mailproxy(Map.of(), tmp, "keys", "generate", "--email", "alice@example.test", "--passphrase-file",
                pass.toString(), "--config", c.toString()).exitCode()).isZero();
        TestFiles.Run stored = mailproxy(Map.of(), tmp, "accounts", "set-provider-password", "alice",
                "--password-file", tmp.resolve("provider").toString(), "--config", c.toString());
        assertThat(stored.exitCode()).as(stored.err()).isZero();
        assertThat(stored.out()).doesNotContain(canary);

        Path file = tmp.resolve("data/accounts/alice@example.test/provider-login.pgp");
        assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).doesNotContain(canary);
        assertThat(read(c)).isEqualTo("alice/" + canary);

        // the terminal, with another login name
        TestFiles.Run typed = mailproxy(Map.of(), tmp, prompt -> "typed-Secret".toCharArray(), "accounts",
                "set-provider-password", "alice@example.test", "--login", "alice.smith", "--config", c.toString());
        assertThat(typed.exitCode()).as(typed.err()).isZero();
        assertThat(read(c)).isEqualTo("alice.smith/typed-Secret");

        TestFiles.Run list = mailproxy(Map.of(), tmp, "accounts", "list", "--config", c.toString());
        assertThat(list.out()).contains("local authentication: in force")
                .contains("alice@example.test  login alice  local password: none  provider password: stored");
    }

    @Test
    void passwordsAreNeverTakenFromTheCommandLine() throws Exception {
        String c = conf("").toString();
        TestFiles.Run run = mailproxy(Map.of(), tmp, "accounts", "set-provider-password", "alice", "--password",
                "s3cret", "--config", c);
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("Unknown option");
    }

    @Test
    void theDaemonRefusesRemoteListenersUnlessAllowedAndThenWithoutTls() throws Exception {
        ConfigLoader loader = new ConfigLoader(Map.of());
        MailproxyConfig remote = loader.loadString("mailproxy.imap.listen = \"0.0.0.0:1143\"\nmailproxy.data-dir = "
                + q(tmp.resolve("d1")), "remote.conf");
        assertThatThrownBy(() -> RemoteAccessRules.verify(remote)).isInstanceOf(ConfigError.class)
                .hasMessageContaining("mailproxy.imap.listen").hasMessageContaining("allow-remote-clients = true");
        assertThatThrownBy(() -> Daemon.start(remote)).isInstanceOf(ConfigError.class)
                .hasMessageContaining("beyond loopback");

        MailproxyConfig plain = loader.loadString("mailproxy { smtp.listen = \"0.0.0.0:1025\"\n allow-remote-clients = "
                + "true\n local-tls.mode = off\n data-dir = " + q(tmp.resolve("d2")) + " }", "plain.conf");
        assertThat(plain.localAuthInForce()).isTrue();
        assertThatThrownBy(() -> RemoteAccessRules.verify(plain)).isInstanceOf(ConfigError.class)
                .hasMessageContaining("in the clear");

        MailproxyConfig metrics = loader.loadString("mailproxy.http.listen = \"0.0.0.0:9464\"", "m.conf");
        assertThat(metrics.localAuthInForce()).as("HTTP alone does not take logins").isFalse();
        assertThat(RemoteAccessRules.problems(metrics)).singleElement().asString().contains("http.listen");

        MailproxyConfig allowed = loader.loadString("mailproxy { imap.listen = \"0.0.0.0:1143\"\n "
                + "allow-remote-clients = true }", "ok.conf");
        assertThat(RemoteAccessRules.problems(allowed)).isEmpty();
        assertThat(allowed.localAuthInForce()).isTrue();
        assertThat(loader.loadString("", "defaults").localAuthInForce()).isFalse();
    }

    private String read(Path conf) throws Exception {
        Keyring ring = Keyring.open(tmp.resolve("data/keys"));
        try (UnlockedKey key = ring.unlock("alice@example.test", PassphraseSource.ofChars(PASSPHRASE.toCharArray()))) {
            ProviderLogin l = AccountSecrets.open(tmp.resolve("data")).providerLogin("alice@example.test", ring, key)
                    .orElseThrow();
            return l.login() + "/" + new String(l.password(), StandardCharsets.UTF_8);
        }
    }
}
