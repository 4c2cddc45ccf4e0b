package org.mailproxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    private static final String ONE_ACCOUNT = """
            mailproxy {
              data-dir = "/tmp/mp-test"
              accounts = [ { email = "alice@example.com", login = "alice",
                             imap.upstream = "imaps://imap.example.com:993",
                             smtp.upstream = "smtp+starttls://smtp.example.com" } ]
            }
            """;

    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(Map.of());

    @Test
    void readsFileAndFillsDefaultsFromReference() throws Exception {
        Path file = write(ONE_ACCOUNT);
        MailproxyConfig c = loader.load(file);
        assertThat(c.dataDir()).isEqualTo(Path.of("/tmp/mp-test"));
        assertThat(c.imap().listen()).isEqualTo(new ListenAddress("127.0.0.1", 1143));
        assertThat(c.smtp().listen()).isEqualTo(new ListenAddress("127.0.0.1", 1025));
        assertThat(c.httpListen()).contains(new ListenAddress("127.0.0.1", 9464));
        assertThat(c.httpHealthInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.localTls().mode()).isEqualTo(LocalTls.Mode.STARTTLS);
        assertThat(c.imap().limits().maxNonSyncLiteral()).isEqualTo(4096);
        assertThat(c.imap().clientIdleTimeout()).isEqualTo(Duration.ofMinutes(31));
        Account a = c.accounts().get(0);
        assertThat(a.login()).isEqualTo("alice");
        assertThat(a.imapUpstream()).isEqualTo(new UpstreamEndpoint(UpstreamEndpoint.Protocol.IMAP,
                UpstreamEndpoint.TlsMode.IMPLICIT, "imap.example.com", 993));
        assertThat(a.smtpUpstream()).isEqualTo(new UpstreamEndpoint(UpstreamEndpoint.Protocol.SMTP,
                UpstreamEndpoint.TlsMode.STARTTLS, "smtp.example.com", 587));
    }

    @Test
    void loginDefaultsToEmailAndOneAccountTakesEveryLogin() throws Exception {
        MailproxyConfig c = loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",", "")));
        assertThat(c.accounts().get(0).login()).isEqualTo("alice@example.com");
        assertThat(c.accountForLogin("someone-else")).contains(c.accounts().get(0));
    }

    @Test
    void severalAccountsAreSelectedByLoginOrEmail() {
        MailproxyConfig c = loader.loadString("""
                mailproxy.accounts = [
                  { email = "a@x.test", login = "a", imap.upstream = "imaps://x.test", smtp.upstream = "smtps://x.test" },
                  { email = "b@y.test", imap.upstream = "imaps://y.test", smtp.upstream = "smtps://y.test" } ]
                """, "test.conf");
        assertThat(c.accountForLogin("A")).map(Account::email).contains("a@x.test");
        assertThat(c.accountForLogin("b@y.test")).map(Account::email).contains("b@y.test");
        assertThat(c.accountForLogin("nobody")).isEmpty();
    }

    @Test
    void unknownKeyNamesFileLineAndKeyWithSuggestion() throws Exception {
        Path file = write("mailproxy {\n  imap {\n    lisen = \"127.0.0.1:1\"\n  }\n}\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigError.class)
                .hasMessage("mailproxy.conf:3: mailproxy.imap.lisen: unknown setting (did you mean \"listen\"?)");
    }

    @Test
    void theOldMetricsListenSettingNamesItsNewName() throws Exception {
        assertThatThrownBy(() -> loader.load(write("mailproxy {\n  metrics.listen = off\n}\n")))
                .isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("mailproxy.conf:2: mailproxy.metrics: unknown setting; metrics.listen is now http.listen");
    }

    @Test
    void healthIntervalMustBePositive() throws Exception {
        assertThat(loader.load(write("mailproxy.http.health-interval = 250ms\n")).httpHealthInterval())
                .isEqualTo(Duration.ofMillis(250));
        assertThatThrownBy(() -> loader.load(write("mailproxy {\n  http.health-interval = 0s\n}\n")))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining("mailproxy.http.health-interval");
    }

    @Test
    void unknownTopLevelAndAccountKeysAreRefused() throws Exception {
        assertThatThrownBy(() -> loader.load(write("proxy.imap.listen = \"x\"\n")))
                .hasMessageStartingWith("mailproxy.conf:1: proxy: unknown setting");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",", "pasword = \"x\","))))
                .hasMessage("mailproxy.conf:3: mailproxy.accounts[0].pasword: unknown setting");
    }

    @Test
    void accountKeyBlockIsReadAndWhereItWasSetIsKnown() throws Exception {
        MailproxyConfig c = loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",", """
                login = "alice",
                             key { fingerprint = "0xabcd ef01 2345 6789 ABCD EF01 2345 6789 abcd ef01",
                                   passphrase-file = "/run/secrets/mp" },""")));
        KeySettings key = c.accounts().get(0).key();
        assertThat(key.fingerprint()).contains("ABCDEF0123456789ABCDEF0123456789ABCDEF01");
        assertThat(key.passphraseFile()).contains(Path.of("/run/secrets/mp"));
        assertThat(key.passphraseCredential()).isEmpty();
        assertThat(key.unlocksAtStart()).isTrue();
        assertThat(c.describe("mailproxy.accounts[0].key.passphrase-file"))
                .isEqualTo("mailproxy.conf:5: mailproxy.accounts[0].key.passphrase-file");

        KeySettings cred = loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key.passphrase-credential = \"mailproxy-alice\","))).accounts().get(0).key();
        assertThat(cred.passphraseCredential()).contains("mailproxy-alice");
        assertThat(cred.fingerprint()).isEmpty();

        assertThat(loader.load(write(ONE_ACCOUNT)).accounts().get(0).key()).isEqualTo(KeySettings.NONE);
        assertThat(KeySettings.NONE.unlocksAtStart()).isFalse();
    }

    @Test
    void accountKeyBlockMistakesNameLineAndKey() throws Exception {
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key.pasphrase-file = \"/p\","))))
                .isInstanceOf(ConfigError.class)
                .hasMessage("mailproxy.conf:3: mailproxy.accounts[0].key.pasphrase-file: unknown setting "
                        + "(did you mean \"key.passphrase-file\"?)");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key = \"/p\","))))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.accounts[0].key: expected a block");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key.passphrase-file = [ \"/a\", \"/b\" ],"))))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.accounts[0].key.passphrase-file:")
                .hasMessageContaining("STRING");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key.fingerprint = \"alice\","))))
                .hasMessage("mailproxy.conf:3: mailproxy.accounts[0].key.fingerprint: \"alice\" is not a key "
                        + "fingerprint (40 or 64 hex digits, as mailproxy keys list shows)");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key.passphrase-credential = \"../etc/shadow\","))))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.accounts[0].key.passphrase-credential: "
                        + "\"../etc/shadow\" is not a credential name");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", key { passphrase-file = \"/p\", passphrase-credential = \"c\" },"))))
                .hasMessageContaining("mailproxy.accounts[0].key: passphrase-file and passphrase-credential both given");
    }

    @Test
    void sendPolicyBlockWithRulesAndItsDefaults() throws Exception {
        assertThat(loader.load(write(ONE_ACCOUNT)).accounts().get(0).policy()).isEqualTo(SendPolicy.DEFAULT);
        SendPolicy p = loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",", """
                login = "alice", policy { encrypt = required, sign = always, autocrypt = false,
                  obscured-subject = "Encrypted message",
                  rules = [ { match = "Partner.example", encrypt = opportunistic },
                            { match = "newsletter@partner.example", encrypt = never } ] },
                """))).accounts().get(0).policy();
        assertThat(p.encrypt()).isEqualTo(SendPolicy.Encrypt.REQUIRED);
        assertThat(p.sign()).isEqualTo(SendPolicy.Sign.ALWAYS);
        assertThat(p.autocrypt()).isFalse();
        assertThat(p.obscuredSubject()).isEqualTo("Encrypted message");
        assertThat(p.forRecipient("someone@else.example")).isEqualTo(SendPolicy.Encrypt.REQUIRED);
        assertThat(p.forRecipient("bob@partner.example")).isEqualTo(SendPolicy.Encrypt.OPPORTUNISTIC);
        assertThat(p.forRecipient("Newsletter@Partner.example")).isEqualTo(SendPolicy.Encrypt.NEVER);
        assertThat(loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", policy.sign = when-encrypting,"))).accounts().get(0).policy().sign())
                .isEqualTo(SendPolicy.Sign.WHEN_ENCRYPTING);
    }

    @Test
    void sendPolicyMistakesNameLineAndKey() throws Exception {
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", policy.encrypt = always,"))))
                .hasMessage("mailproxy.conf:3: mailproxy.accounts[0].policy.encrypt: \"always\" is not one of "
                        + "required | opportunistic | never");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", policy.encrpyt = never,"))))
                .hasMessage("mailproxy.conf:3: mailproxy.accounts[0].policy.encrpyt: unknown setting "
                        + "(did you mean \"policy.encrypt\"?)");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", policy.rules = [ { match = \"x.example\" } ],"))))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.accounts[0].policy.rules: each rule is");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("login = \"alice\",",
                "login = \"alice\", policy = strict,"))))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.accounts[0].policy: expected a block");
    }

    @Test
    void encryptAppendsDefaultsToDraftsAndSentBySpecialUse() throws Exception {
        ImapSettings.EncryptAppends d = loader.load(write(ONE_ACCOUNT)).imap().encryptAppends();
        assertThat(d).isEqualTo(ImapSettings.EncryptAppends.DEFAULT);
        assertThat(d.specialUse()).containsExactly("\\Drafts", "\\Sent");
        assertThat(d.folders()).isEmpty();
        assertThat(d.off()).isFalse();
    }

    @Test
    void encryptAppendsByAttributeAndByName() throws Exception {
        ImapSettings.EncryptAppends e = loader.load(write("""
                mailproxy.imap.encrypt-appends {
                  special-use = ["\\\\drafts", "\\\\Archive", "\\\\Drafts"]
                  folders = ["Sent Items", "inbox", "Entwürfe"]
                }
                """)).imap().encryptAppends();
        assertThat(e.specialUse()).containsExactly("\\Drafts", "\\Archive");
        assertThat(e.folders()).containsExactly("Sent Items", "INBOX", "Entwürfe");
        ImapSettings.EncryptAppends off = loader.load(write(
                "mailproxy.imap.encrypt-appends { special-use = [], folders = [] }\n")).imap().encryptAppends();
        assertThat(off.off()).isTrue();
        // one list given, the other keeps its default
        assertThat(loader.load(write("mailproxy.imap.encrypt-appends.folders = [\"Drafts\"]\n")).imap()
                .encryptAppends()).isEqualTo(new ImapSettings.EncryptAppends(List.of("\\Drafts", "\\Sent"),
                List.of("Drafts")));
    }

    @Test
    void encryptAppendsMistakesNameLineAndKey() throws Exception {
        assertThatThrownBy(() -> loader.load(write("mailproxy {\n  imap.encrypt-appends {\n    special-use = "
                + "[\"\\\\Draft\"]\n  }\n}\n")))
                .isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.imap.encrypt-appends.special-use: "
                        + "\"\\Draft\" is not a SPECIAL-USE attribute (RFC 6154: \\All");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.special-use = [\"Drafts\"]\n")))
                .hasMessageStartingWith("mailproxy.conf:1: mailproxy.imap.encrypt-appends.special-use: \"Drafts\"")
                .hasMessageContaining("start with a backslash");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.folders = [\"Sent/*\"]\n")))
                .hasMessageStartingWith("mailproxy.conf:1: mailproxy.imap.encrypt-appends.folders: ")
                .hasMessageContaining("wildcard");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.folders = [\"\"]\n")))
                .hasMessage("mailproxy.conf:1: mailproxy.imap.encrypt-appends.folders: an empty mailbox name");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.folders = [\"a\\tb\"]\n")))
                .hasMessageContaining("mailproxy.imap.encrypt-appends.folders: mailbox name \"a?b\" holds a control");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.folders = \"Drafts\"\n")))
                .hasMessageStartingWith("mailproxy.conf:1: mailproxy.imap.encrypt-appends.folders:")
                .hasMessageContaining("LIST");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends = on\n")))
                .hasMessage("mailproxy.conf:1: mailproxy.imap.encrypt-appends: expected a block { ... }");
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.encrypt-appends.special_use = []\n")))
                .hasMessage("mailproxy.conf:1: mailproxy.imap.encrypt-appends.special_use: unknown setting "
                        + "(did you mean \"special-use\"?)");
    }

    @Test
    void badUpstreamUrlNamesLineAndKey() throws Exception {
        Path file = write(ONE_ACCOUNT.replace("imaps://imap.example.com:993", "imap://imap.example.com"));
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("mailproxy.conf:4: mailproxy.accounts[0].imap.upstream: \"imap://\" would send")
                .hasMessageContaining("imaps://");
        assertThatThrownBy(() -> loader.load(write(ONE_ACCOUNT.replace("smtp+starttls://", "imaps://"))))
                .hasMessageContaining("mailproxy.accounts[0].smtp.upstream").hasMessageContaining("expected SMTP");
    }

    @Test
    void missingRequiredAccountKey() throws Exception {
        Path file = write(ONE_ACCOUNT.replace("smtp.upstream = \"smtp+starttls://smtp.example.com\"", ""));
        assertThatThrownBy(() -> loader.load(file)).hasMessage("mailproxy.conf:3: mailproxy.accounts[0].smtp.upstream: missing (required)");
    }

    @Test
    void missingFilesAreNamed() throws Exception {
        assertThatThrownBy(() -> loader.load(dir.resolve("nope.conf"))).hasMessageContaining("nope.conf: no such configuration file");
        Path file = write("mailproxy.tls.trusted-ca-file = \"/does/not/exist.pem\"\n");
        assertThatThrownBy(() -> loader.load(file))
                .hasMessage("mailproxy.conf:1: mailproxy.tls.trusted-ca-file: file /does/not/exist.pem does not exist or cannot be read");
    }

    @Test
    void badValuesNameTheirKey() throws Exception {
        assertThatThrownBy(() -> loader.load(write("mailproxy.imap.listen = \"127.0.0.1:99999\"\n")))
                .hasMessage("mailproxy.conf:1: mailproxy.imap.listen: port 99999 is out of range");
        assertThatThrownBy(() -> loader.load(write("mailproxy.local-tls.mode = \"sometimes\"\n")))
                .hasMessageContaining("mailproxy.conf:1: mailproxy.local-tls.mode: \"sometimes\" is not one of");
        assertThatThrownBy(() -> loader.load(write("mailproxy {\n smtp.timeouts.client-idle = banana\n}\n")))
                .hasMessageStartingWith("mailproxy.conf:2: mailproxy.smtp.timeouts.client-idle:");
        assertThatThrownBy(() -> loader.load(write("mailproxy { imap { \n")))
                .isInstanceOf(ConfigError.class).hasMessageStartingWith("mailproxy.conf:");
    }

    @Test
    void environmentOverridesTheTypesafeWay() throws Exception {
        Path file = write(ONE_ACCOUNT);
        MailproxyConfig c = new ConfigLoader(Map.of(
                "CONFIG_FORCE_mailproxy_imap_listen", "127.0.0.1:2143",
                "CONFIG_FORCE_mailproxy_http_listen", "off",
                "CONFIG_FORCE_mailproxy_local__tls_mode", "implicit")).load(file);
        assertThat(c.imap().listen().port()).isEqualTo(2143);
        assertThat(c.httpListen()).isEmpty();
        assertThat(c.localTls().mode()).isEqualTo(LocalTls.Mode.IMPLICIT);
    }

    @Test
    void describeNamesWhereASettingWasMade() throws Exception {
        MailproxyConfig c = loader.load(write("mailproxy {\n  smtp.listen = \"127.0.0.1:2525\"\n}\n"));
        assertThat(c.describe("mailproxy.smtp.listen")).isEqualTo("mailproxy.conf:2: mailproxy.smtp.listen");
        assertThat(c.describe("mailproxy.imap.listen")).isEqualTo("mailproxy.imap.listen");
    }

    @Test
    void dataDirDefaultsToXdgDataHomeOrHome() {
        assertThat(new ConfigLoader(Map.of("XDG_DATA_HOME", "/xdg")).loadString("", "t").dataDir())
                .isEqualTo(Path.of("/xdg/mailproxy"));
        assertThat(loader.loadString("", "t").dataDir())
                .isEqualTo(Path.of(System.getProperty("user.home"), ".local/share/mailproxy"));
    }

    @Test
    void aReferenceConfTwiceOnTheClassPathStillLoads() throws Exception {
        Path copy = dir.resolve("dup");
        Files.createDirectories(copy);
        try (var in = ConfigLoader.class.getClassLoader().getResourceAsStream("reference.conf")) {
            Files.copy(in, copy.resolve("reference.conf"));
        }
        ClassLoader twice = new java.net.URLClassLoader(new java.net.URL[]{copy.toUri().toURL()}, ConfigLoader.class.getClassLoader());
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        t.setContextClassLoader(twice);
        try {
            assertThat(java.util.Collections.list(twice.getResources("reference.conf"))).hasSizeGreaterThan(1);
            assertThat(com.typesafe.config.ConfigFactory.parseResources(twice, "reference.conf").hasPath("mailproxy.imap.listen")).isTrue();
            assertThat(new ConfigLoader(Map.of(), twice).loadString(ONE_ACCOUNT, "t").imap().listen().port()).isEqualTo(1143);
        } finally {
            t.setContextClassLoader(before);
        }
    }

    @Test
    void envNameMapping() {
        assertThat(ConfigLoader.envNameToPath("mailproxy_local__tls_mode")).isEqualTo("mailproxy.local-tls.mode");
        assertThat(ConfigLoader.envNameToPath("a___b")).isEqualTo("a_b");
    }

    private Path write(String text) throws Exception {
        Path file = dir.resolve("mailproxy.conf");
        Files.writeString(file, text);
        return file;
    }
}
