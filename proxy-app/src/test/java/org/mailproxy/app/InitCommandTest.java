package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.Account;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mailproxy init}: flags, the dialog through a scripted terminal, refusal to overwrite, what the written file
 * holds (and leaves to the defaults), and secrets that never travel in argv or show up where they should not.
 */
class InitCommandTest {

    private static final String EMAIL = "alice@example.test";
    private static final String PASSPHRASE = "a long passphrase for the test key";

    @TempDir
    Path tmp;

    private Path file(String name, String text) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private Path conf() {
        return tmp.resolve("conf").resolve("mailproxy.conf");
    }

    private Path data() {
        return tmp.resolve("data");
    }

    private List<String> flags(String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("init", "--non-interactive", "--config", conf().toString(),
                "--data-dir", data().toString(), "--email", EMAIL, "--no-discover",
                "--imap", "imaps://imap.example.test", "--smtp", "smtp+starttls://smtp.example.test"));
        a.addAll(List.of(more));
        return a;
    }

    private TestFiles.Run init(ScriptedTerminal terminal, List<String> args) {
        return terminal.run(Map.of(), tmp, args.toArray(String[]::new));
    }

    private TestFiles.Run init(List<String> args) {
        return init(new ScriptedTerminal(), args);
    }

    private Path passphraseFile() throws Exception {
        return file("passphrase", PASSPHRASE + "\n");
    }

    @Test
    void flagsAloneSetUpAnAccountAndTheFileHoldsOnlyWhatWasChosen() throws Exception {
        ScriptedTerminal terminal = new ScriptedTerminal();
        Path pass = passphraseFile();
        TestFiles.Run r = init(terminal, flags("--generate-key", "--passphrase-file", pass.toString()));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(terminal.prompts).isEmpty();

        String text = Files.readString(conf());
        assertThat(text).doesNotContain("listen", "allow-remote-clients", "limits", "timeouts", "local-tls", "metrics");
        MailproxyConfig cfg = new ConfigLoader(Map.of()).load(conf());
        Account a = cfg.accounts().get(0);
        assertThat(a.email()).isEqualTo(EMAIL);
        assertThat(a.login()).isEqualTo(EMAIL);
        assertThat(a.imapUpstream()).hasToString("imaps://imap.example.test:993");
        assertThat(a.smtpUpstream()).hasToString("smtp+starttls://smtp.example.test:587");
        assertThat(cfg.dataDir()).isEqualTo(data());
        assertThat(a.key().passphraseFile()).contains(pass);

        List<KeyInfo> keys = Keyring.open(data().resolve("keys")).list();
        assertThat(keys).singleElement().satisfies(k -> {
            assertThat(k.secret()).isTrue();
            assertThat(k.userIds()).contains("<" + EMAIL + ">");
            assertThat(a.key().fingerprint()).contains(k.fingerprint());
        });
        assertThat(Files.getPosixFilePermissions(data())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(conf())).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        DataDirectory.verify(cfg);

        Path cert = data().resolve("tls").resolve("local-cert.pem");
        assertThat(r.out())
                .contains("incoming (IMAP):  server 127.0.0.1, port 1143, security STARTTLS")
                .contains("outgoing (SMTP):  server 127.0.0.1, port 1025, security STARTTLS")
                .contains("username:         " + EMAIL)
                .contains("your password at the provider")
                .contains("trust the proxy's certificate: " + cert)
                .contains("SHA-256 fingerprint: " + ClientSettings.sha256(cert))
                .contains("mailproxy check --config " + conf())
                .contains("mailproxy run --config " + conf())
                .doesNotContain(PASSPHRASE);
        assertThat(ClientSettings.sha256(cert)).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}");
    }

    @Test
    void anExistingFileIsNotReplacedWithoutForce() throws Exception {
        Files.createDirectories(conf().getParent());
        Files.writeString(conf(), "# mine\n");
        TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString()));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains(conf() + " exists").contains("--force");
        assertThat(Files.readString(conf())).isEqualTo("# mine\n");
        assertThat(data()).doesNotExist();

        TestFiles.Run forced = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(), "--force"));
        assertThat(forced.exitCode()).isZero();
        assertThat(Files.readString(conf())).contains(EMAIL);
    }

    @Test
    void aSecondRunUsesTheKeyAlreadyThere() throws Exception {
        assertThat(init(flags("--generate-key", "--passphrase-file", passphraseFile().toString())).exitCode()).isZero();
        TestFiles.Run again = init(flags("--force"));
        assertThat(again.exitCode()).isZero();
        assertThat(again.out()).contains("already in the data directory");
        assertThat(Keyring.open(data().resolve("keys")).list()).hasSize(1);
    }

    @Test
    void withoutATerminalMissingAnswersAreErrorsNotQuestions() throws Exception {
        ScriptedTerminal terminal = new ScriptedTerminal("never used");
        TestFiles.Run r = init(terminal, List.of("init", "--non-interactive", "--config", conf().toString(),
                "--data-dir", data().toString()));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--email is needed with --non-interactive");
        assertThat(terminal.prompts).isEmpty();

        r = init(terminal, flags());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--generate-key").contains("--import-key");

        r = init(terminal, flags("--generate-key"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--passphrase-file");
        assertThat(terminal.prompts).isEmpty();
        assertThat(conf()).doesNotExist();
    }

    @Test
    void noOptionTakesASecretOnTheCommandLine() throws Exception {
        CommandLine init = new CommandLine(new MailproxyCommand(null)).getSubcommands().get("init");
        for (OptionSpec o : init.getCommandSpec().options()) {
            for (String name : o.names()) {
                if (name.contains("password") || name.contains("passphrase") || name.contains("secret")) {
                    assertThat(name).as("a secret's option names a file").endsWith("-file");
                }
            }
        }
        TestFiles.Run r = init(flags("--generate-key", "--passphrase", PASSPHRASE));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option");
        TestFiles.Run p = init(flags("--generate-key", "--password", "x"));
        assertThat(p.exitCode()).isEqualTo(2);
    }

    @Test
    void aPlainTextUpstreamIsRefused() throws Exception {
        List<String> args = flags("--generate-key", "--passphrase-file", passphraseFile().toString());
        args.set(args.indexOf("imaps://imap.example.test"), "imap://imap.example.test");
        TestFiles.Run r = init(args);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("in the clear");
        assertThat(conf()).doesNotExist();
    }

    @Test
    void theDialogAsksEachQuestionAndTakesTheDefaultsOnEnter() throws Exception {
        ScriptedTerminal terminal = new ScriptedTerminal(
                EMAIL,                          // email
                "imap.example.test",            // IMAP: a bare host means implicit TLS
                "smtp+starttls://smtp.example.test:2587",
                "",                             // login: the address
                "",                             // listen: loopback
                "g",                            // generate a key
                PASSPHRASE, PASSPHRASE);
        TestFiles.Run r = init(terminal, List.of("init", "--config", conf().toString(), "--data-dir",
                data().toString(), "--no-discover"));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(terminal.unused()).isEmpty();
        assertThat(terminal.prompts).containsExactly(
                "Email address: ",
                "IMAP server of the provider (imaps://HOST:993 or imap+starttls://HOST:143): ",
                "SMTP server of the provider (smtps://HOST:465 or smtp+starttls://HOST:587): ",
                "Login name at the provider [" + EMAIL + "]: ",
                "Address to listen on for mail clients (127.0.0.1 keeps mailproxy to this machine; an address on "
                        + "your network lets other devices connect with a generated local password) [127.0.0.1]: ",
                "No key for " + EMAIL + " yet. Generate one (g) or import one from a file (i)? [g]: ",
                ScriptedTerminal.NO_ECHO + "Passphrase for the new key of " + EMAIL + ": ",
                ScriptedTerminal.NO_ECHO + "Repeat the passphrase: ");
        Account a = new ConfigLoader(Map.of()).load(conf()).accounts().get(0);
        assertThat(a.imapUpstream()).hasToString("imaps://imap.example.test:993");
        assertThat(a.smtpUpstream()).hasToString("smtp+starttls://smtp.example.test:2587");
        assertThat(a.key().passphraseFile()).isEmpty();
        assertThat(r.out()).contains("mailproxy keys unlock " + EMAIL);
    }

    @Test
    void aMistypedServerIsAskedAgain() throws Exception {
        ScriptedTerminal terminal = new ScriptedTerminal(EMAIL, "imap://imap.example.test", "imaps://imap.example.test",
                "smtps://smtp.example.test", "", "", "g", PASSPHRASE, PASSPHRASE);
        TestFiles.Run r = init(terminal, List.of("init", "--config", conf().toString(), "--data-dir",
                data().toString(), "--no-discover"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("in the clear");
        assertThat(terminal.unused()).isEmpty();
    }

    @Test
    void passphrasesThatDifferLeaveNothingBehind() throws Exception {
        ScriptedTerminal terminal = new ScriptedTerminal(EMAIL, "imap.example.test", "smtp.example.test", "", "",
                "g", PASSPHRASE, PASSPHRASE + "x");
        TestFiles.Run r = init(terminal, List.of("init", "--config", conf().toString(), "--data-dir",
                data().toString(), "--no-discover"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("the passphrases differ");
        assertThat(conf()).doesNotExist();
        assertThat(data()).doesNotExist();
    }

    @Test
    void listeningBeyondLoopbackAllowsRemoteClientsAndStoresTheProviderPasswordEncrypted() throws Exception {
        String providerPassword = "provider-secret-canary-4711";
        Path pw = file("provider-password", providerPassword + "\n");
        TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(),
                "--login", "alice", "--listen", "0.0.0.0", "--provider-password-file", pw.toString()));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        String text = Files.readString(conf());
        assertThat(text).contains("allow-remote-clients = true").contains("imap.listen = \"0.0.0.0:1143\"")
                .contains("smtp.listen = \"0.0.0.0:1025\"").doesNotContain(providerPassword);
        MailproxyConfig cfg = new ConfigLoader(Map.of()).load(conf());
        assertThat(cfg.accounts().get(0).login()).isEqualTo("alice");

        Path account = data().resolve("accounts").resolve(EMAIL);
        String localPassword = Files.readString(account.resolve("local-password")).trim();
        assertThat(localPassword).hasSize(24);
        assertThat(r.out()).contains("password:         " + localPassword).contains("username:         " + EMAIL)
                .contains("server <this machine's name or address>, port 1143")
                .contains("add it to").contains("local-tls.hostnames")
                .doesNotContain(providerPassword);
        byte[] sealed = Files.readAllBytes(account.resolve("provider-login.pgp"));
        assertThat(new String(sealed, StandardCharsets.ISO_8859_1)).doesNotContain(providerPassword).doesNotContain("alice");
        DataDirectory.verify(cfg);
    }

    @Test
    void beyondLoopbackWithoutAProviderPasswordIsRefusedBeforeAnythingIsWritten() throws Exception {
        TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(),
                "--listen", "0.0.0.0"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--provider-password-file");
        assertThat(conf()).doesNotExist();
        assertThat(data()).doesNotExist();
    }

    @Test
    void anImportedSecretKeyBecomesTheAccountsKey() throws Exception {
        Path other = tmp.resolve("elsewhere");
        Files.createDirectories(other);
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx------"));
        Keyring ring = Keyring.open(other.resolve("keys"));
        KeyInfo made = ring.generate(EMAIL, PASSPHRASE.toCharArray(), KeyVersion.V4);
        ByteArrayOutputStream secret = new ByteArrayOutputStream();
        ring.export(made.fingerprint(), true, true, secret);
        ByteArrayOutputStream pub = new ByteArrayOutputStream();
        ring.export(made.fingerprint(), false, true, pub);

        TestFiles.Run publicOnly = init(flags("--import-key", file("pub.asc", pub.toString(StandardCharsets.US_ASCII)).toString()));
        assertThat(publicOnly.exitCode()).isEqualTo(2);
        assertThat(publicOnly.err()).contains("no usable secret key").contains("gpg --export-secret-keys");
        assertThat(conf()).doesNotExist();

        TestFiles.Run r = init(flags("--import-key", file("sec.asc", secret.toString(StandardCharsets.US_ASCII)).toString()));
        assertThat(r.exitCode()).isZero();
        assertThat(new ConfigLoader(Map.of()).load(conf()).accounts().get(0).key().fingerprint()).contains(made.fingerprint());
        assertThat(r.out()).contains("imported from");
    }

    @Test
    void answersCannotSmuggleSettingsIntoTheFile() throws Exception {
        String login = "mallory\"\n  data-dir = \"/tmp/elsewhere";
        TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(), "--login", login));
        assertThat(r.exitCode()).isZero();
        MailproxyConfig cfg = new ConfigLoader(Map.of()).load(conf());
        assertThat(cfg.accounts().get(0).login()).isEqualTo(login);
        assertThat(cfg.dataDir()).isEqualTo(data());
    }

    @Test
    void aListenAddressWithAPortOrGarbageIsRefused() throws Exception {
        for (String bad : List.of("0.0.0.0:1143", "a b", "host/x")) {
            TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(), "--listen", bad));
            assertThat(r.exitCode()).as(bad).isEqualTo(2);
            assertThat(r.err()).contains("--listen");
        }
        TestFiles.Run v6 = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(), "--listen", "::1"));
        assertThat(v6.err()).isEmpty();
        assertThat(v6.exitCode()).isZero();
        assertThat(Files.readString(conf())).contains("imap.listen = \"[::1]:1143\"").doesNotContain("allow-remote-clients");
    }

    @Test
    void aLanAddressIsAddedToTheNamesOfTheLocalCertificate() throws Exception {
        TestFiles.Run r = init(flags("--generate-key", "--passphrase-file", passphraseFile().toString(),
                "--listen", "192.0.2.10", "--provider-password-file", file("pw", "secret\n").toString()));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        MailproxyConfig cfg = new ConfigLoader(Map.of()).load(conf());
        assertThat(cfg.localTls().hostnames()).containsExactly("localhost", "127.0.0.1", "::1", "192.0.2.10");
        assertThat(r.out()).contains("server 192.0.2.10, port 1143").contains("valid for: localhost, 127.0.0.1, ::1, 192.0.2.10");
    }

    @Test
    void onTheTerminalAnImportedKeyAndTheProviderPasswordAreAskedForTheirWay() throws Exception {
        Path other = tmp.resolve("elsewhere");
        Files.createDirectories(other);
        Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwx------"));
        Keyring ring = Keyring.open(other.resolve("keys"));
        KeyInfo made = ring.generate(EMAIL, PASSPHRASE.toCharArray(), KeyVersion.V4);
        ByteArrayOutputStream secret = new ByteArrayOutputStream();
        ring.export(made.fingerprint(), true, true, secret);
        Path keyFile = file("sec.asc", secret.toString(StandardCharsets.US_ASCII));

        String providerPassword = "typed-provider-canary-0815";
        ScriptedTerminal terminal = new ScriptedTerminal(EMAIL, "imap.example.test", "smtp.example.test", "alice",
                "0.0.0.0", "i", keyFile.toString(), providerPassword);
        TestFiles.Run r = init(terminal, List.of("init", "--config", conf().toString(), "--data-dir",
                data().toString(), "--no-discover"));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        assertThat(terminal.unused()).isEmpty();
        assertThat(terminal.prompts.subList(5, 8)).containsExactly(
                "No key for " + EMAIL + " yet. Generate one (g) or import one from a file (i)? [g]: ",
                "File with the secret key (e.g. from gpg --export-secret-keys --armor " + EMAIL + "): ",
                ScriptedTerminal.NO_ECHO + "Password at the provider for alice (stored encrypted to the account's key): ");
        MailproxyConfig cfg = new ConfigLoader(Map.of()).load(conf());
        assertThat(cfg.accounts().get(0).key().fingerprint()).contains(made.fingerprint());
        assertThat(Files.readString(conf())).contains("allow-remote-clients = true");
        assertThat(data().resolve("accounts").resolve(EMAIL).resolve("provider-login.pgp")).exists();
        assertThat(r.out()).doesNotContain(providerPassword);
    }

    @Test
    void localAuthAlwaysFromTheEnvironmentAlsoStoresTheProviderPassword() throws Exception {
        Map<String, String> env = Map.of("CONFIG_FORCE_mailproxy_local__auth", "always");
        List<String> args = flags("--generate-key", "--passphrase-file", passphraseFile().toString());
        TestFiles.Run refused = new ScriptedTerminal().run(env, tmp, args.toArray(String[]::new));
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("local-auth = always").contains("--provider-password-file");

        args.addAll(List.of("--provider-password-file", file("pw", "secret\n").toString()));
        TestFiles.Run r = new ScriptedTerminal().run(env, tmp, args.toArray(String[]::new));
        assertThat(r.exitCode()).isZero();
        assertThat(Files.readString(conf())).doesNotContain("allow-remote-clients").doesNotContain("local-auth");
        assertThat(data().resolve("accounts").resolve(EMAIL).resolve("provider-login.pgp")).exists();
        assertThat(r.out()).contains("the local password");
    }
}
