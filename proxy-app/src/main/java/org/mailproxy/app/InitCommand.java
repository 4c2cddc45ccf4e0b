package org.mailproxy.app;

import org.mailproxy.app.setup.AutoconfigClient;
import org.mailproxy.app.setup.DiscoveredServer;
import org.mailproxy.app.setup.DiscoveryResult;
import org.mailproxy.app.setup.MailDomains;
import org.mailproxy.app.setup.ProviderDiscovery;
import org.mailproxy.app.setup.SrvDiscovery;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.Protocol;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy init}: the first run. Asks for the email address, guesses the provider's servers
 * ({@link ProviderDiscovery}: Thunderbird autoconfig over HTTPS, then DNS SRV), lets the person confirm or change
 * them, generates or imports the account's key, decides where to listen, writes the configuration file and prints
 * what to enter in the mail client.
 *
 * <p>Every question has a flag, so it also runs unattended ({@code --non-interactive}: a missing answer is an
 * error, never a prompt). No flag carries a secret: passphrases and passwords come from owner-only files or the
 * terminal without echo (SECURITY.md 23), because argv is visible to every user of the machine.
 *
 * <p>The configuration file holds only what init was told (the account, and listen addresses, data directory or
 * CA file when they differ from the defaults); every other setting keeps its default from {@code reference.conf},
 * so later releases can improve defaults for people who never chose them. An existing file is never replaced
 * without {@code --force}.
 *
 * <p>Discovered servers are used unattended only when the answer is authenticated: autoconfig over HTTPS (the
 * domain's certificate vouches for it), or a host under the address's own domain (a forged DNS answer could name
 * such a host, but then the upstream TLS hostname check fails, since the forger holds no certificate for it). A
 * DNS answer naming a host elsewhere needs {@code --imap}/{@code --smtp} or a person's confirmation.
 */
@Command(name = "init", description = "Set mailproxy up for a mail account: find the provider's servers, create or "
        + "import the account's key, write the configuration and print the mail client's settings.")
final class InitCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file to write (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf).")
    Path config;

    @Option(names = "--force", description = "Replace an existing configuration file.")
    boolean force;

    @Option(names = "--non-interactive", description = "Ask nothing: every answer comes from the flags.")
    boolean nonInteractive;

    @Option(names = "--email", paramLabel = "ADDR", description = "The account's email address.")
    String email;

    @Option(names = "--login", paramLabel = "NAME",
            description = "The login name at the provider (default: what the provider's autoconfig says, else the address).")
    String login;

    @Option(names = "--imap", paramLabel = "URL",
            description = "The provider's IMAP server: imaps://HOST[:993] or imap+starttls://HOST[:143].")
    String imap;

    @Option(names = "--smtp", paramLabel = "URL",
            description = "The provider's SMTP submission server: smtps://HOST[:465] or smtp+starttls://HOST[:587].")
    String smtp;

    @Option(names = "--no-discover", description = "Do not look the provider's servers up (autoconfig, DNS SRV).")
    boolean noDiscover;

    @Option(names = "--allow-http-autoconfig", description = "Also try autoconfig over plain HTTP. Its answer is not "
            + "authenticated (anyone on the network path can change it), so it is always shown for confirmation.")
    boolean allowHttpAutoconfig;

    @Option(names = "--generate-key", description = "Generate a new key for the address (Ed25519/X25519, OpenPGP v4).")
    boolean generateKey;

    @Option(names = "--import-key", paramLabel = "FILE",
            description = "Import the account's secret key from FILE (e.g. gpg --export-secret-keys --armor ADDR).")
    Path importKey;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "The key's passphrase: first line of "
            + "FILE (owner-only). Also written to the configuration so the daemon unlocks the key at start.")
    Path passphraseFile;

    @Option(names = "--listen", paramLabel = "HOST", description = "Address the IMAP and SMTP listeners bind to "
            + "(default 127.0.0.1). Anything else lets other machines connect: they must then log in with a "
            + "generated local password, and the provider password is stored encrypted in the data directory.")
    String listen;

    @Option(names = "--imap-listen", paramLabel = "HOST:PORT", description = "The IMAP listener (default HOST:1143).")
    String imapListen;

    @Option(names = "--smtp-listen", paramLabel = "HOST:PORT", description = "The SMTP listener (default HOST:1025).")
    String smtpListen;

    @Option(names = "--provider-password-file", paramLabel = "FILE", description = "The password at the provider, "
            + "first line of FILE (owner-only); needed only when listening beyond loopback.")
    Path providerPasswordFile;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (default: $XDG_DATA_HOME/mailproxy "
            + "or ~/.local/share/mailproxy).")
    Path dataDir;

    @Option(names = "--trusted-ca-file", paramLabel = "FILE",
            description = "Extra CA certificate(s) (PEM) to trust for the provider, e.g. for a self-hosted server.")
    Path trustedCaFile;

    /** Autoconfig URLs to use instead of the defaults ({domain}, {email} filled in); for tests on loopback. */
    @Option(names = "--autoconfig-url", paramLabel = "TEMPLATE", hidden = true)
    List<String> autoconfigUrls;

    /** A CA file the autoconfig client trusts instead of the system's; for tests on loopback. */
    @Option(names = "--autoconfig-ca", paramLabel = "FILE", hidden = true)
    Path autoconfigCa;

    /** The DNS server SRV records are asked from ({@code host:port}); for tests on loopback. */
    @Option(names = "--dns-server", paramLabel = "HOST:PORT", hidden = true)
    String dnsServer;

    private Main.Environment env;
    private Main.LinePrompt lines;

    @Override
    public Integer call() throws IOException, KeyException {
        env = root.environment;
        Path configFile = ConfigLocation.resolve(config, env.variables(), env.userHome()).toAbsolutePath();
        if (Files.exists(configFile) && !force) {
            throw new ConfigError(configFile + " exists; mailproxy init does not replace it (--force does, "
                    + "or --config FILE writes another)");
        }
        if (generateKey && importKey != null) {
            throw new ConfigError("--generate-key and --import-key: choose one");
        }
        lines = nonInteractive ? null : env.lines().get();
        ConfigLoader loader = new ConfigLoader(env.variables());
        MailproxyConfig defaults = loader.loadString(dataDir == null ? "" : "mailproxy.data-dir = "
                + Demo.quote(dataDir.toAbsolutePath().toString()), "defaults");

        InitPlan plan = new InitPlan();
        String address = askEmail();
        plan.email(address);
        DiscoveryResult found = discover(address);
        UpstreamEndpoint imapEndpoint = endpoint(Protocol.IMAP, imap, found.imap(), address);
        UpstreamEndpoint smtpEndpoint = endpoint(Protocol.SMTP, smtp, found.smtp(), address);
        plan.imap(imapEndpoint).smtp(smtpEndpoint);
        String loginName = login != null ? login
                : ask("Login name at the provider", found.username().orElse(address), "--login");
        plan.login(loginName.trim());

        ListenAddress imapAt = listenAddress(imapListen, defaults.imap().listen());
        ListenAddress smtpAt = listenAddress(smtpListen, defaults.smtp().listen());
        plan.listen(imapAt, smtpAt, defaults);

        Path data = defaults.dataDir();
        plan.dataDir(dataDir == null ? null : data);
        plan.trustedCaFile(trustedCaFile == null ? null : trustedCaFile.toAbsolutePath());
        // The configuration is checked before any secret is asked or anything written. Whether the proxy logs in
        // to the provider itself is the configuration's answer (local-auth may also be "always", e.g. from the
        // environment).
        MailproxyConfig planned = loader.loadString(plan.configText(), configFile.toString());
        RemoteAccessRules.verify(planned);
        boolean localAuth = planned.localAuthInForce();

        KeyChoice keyChoice = null;
        char[] providerPassword = null;
        try {
            keyChoice = chooseKey(data, address);
            providerPassword = localAuth ? providerPassword(loginName) : null;
            // Everything is asked; now act.
            if (!Files.exists(data)) {
                DataDirectory.createOwnerOnly(data);
            }
            Keyring ring = Keyring.open(data.resolve("keys"));
            KeyInfo key = keyChoice.apply(ring, address);
            plan.key(key.fingerprint(), passphraseFile == null ? null : passphraseFile.toAbsolutePath());
            String text = plan.configText();
            MailproxyConfig written = loader.loadString(text, configFile.toString());
            DataDirectory.verify(written);
            String localPassword = null;
            if (localAuth) {
                localPassword = storeSecrets(data, address, loginName.trim(), providerPassword, ring, key.fingerprint());
            }
            InitPlan.write(configFile, text);
            ClientSettings.print(env.out(), loader.load(configFile), configFile, address, key, localAuth,
                    localPassword, keyChoice.describe());
            return Main.OK;
        } finally {
            if (providerPassword != null) {
                Arrays.fill(providerPassword, '\0');
            }
            if (keyChoice != null) {
                keyChoice.wipe();
            }
        }
    }

    /**
     * With local authentication in force the proxy logs in to the provider itself: the provider login is stored
     * sealed to the account's key, and the local password clients use is generated (or the existing one kept).
     */
    private static String storeSecrets(Path data, String address, String loginName, char[] password, Keyring ring,
                                       String fingerprint) throws IOException {
        java.nio.ByteBuffer bytes = java.nio.charset.StandardCharsets.UTF_8.encode(java.nio.CharBuffer.wrap(password));
        byte[] raw = new byte[bytes.remaining()];
        bytes.get(raw);
        if (bytes.hasArray()) {
            Arrays.fill(bytes.array(), (byte) 0);
        }
        ProviderLogin providerLogin;
        try {
            providerLogin = new ProviderLogin(loginName, raw);
        } catch (IllegalArgumentException e) {
            Arrays.fill(raw, (byte) 0);
            throw new ConfigError("provider login: " + e.getMessage());
        }
        try {
            AccountSecrets secrets = AccountSecrets.open(data);
            secrets.storeProviderLogin(address, providerLogin, ring, fingerprint);
            return secrets.localPassword(address);
        } finally {
            providerLogin.erase();
        }
    }

    // ------------------------------------------------------------------ questions

    private String askEmail() {
        String address = email != null ? email : ask("Email address", null, "--email");
        address = address.trim();
        if (MailDomains.domainOf(address).isEmpty() || address.chars().anyMatch(c -> c <= ' ')) {
            throw new ConfigError("\"" + address + "\" is not an email address mailproxy can use");
        }
        return address;
    }

    private DiscoveryResult discover(String address) {
        if (noDiscover || (imap != null && smtp != null)) {
            return new DiscoveryResult(Optional.empty(), Optional.empty(), List.of());
        }
        String domain = MailDomains.domainOf(address).orElseThrow();
        env.out().println("Looking up the mail servers of " + domain + " ...");
        env.out().flush();
        AutoconfigClient autoconfig;
        if (autoconfigUrls != null && !autoconfigUrls.isEmpty()) {
            autoconfig = new AutoconfigClient(autoconfigUrls, autoconfigCa == null ? null
                    : org.mailproxy.app.setup.TrustedCa.sslContext(autoconfigCa), Duration.ofSeconds(10));
        } else {
            autoconfig = AutoconfigClient.defaults(allowHttpAutoconfig);
        }
        DiscoveryResult r = new ProviderDiscovery(autoconfig, new SrvDiscovery(dnsServer, Duration.ofSeconds(2)))
                .discover(address);
        for (String note : r.notes()) {
            env.out().println("  note: " + note);
        }
        r.imap().ifPresent(s -> env.out().println("  IMAP: " + s.endpoint() + "  (from " + s.source() + ")"));
        r.smtp().ifPresent(s -> env.out().println("  SMTP: " + s.endpoint() + "  (from " + s.source() + ")"));
        if (r.imap().isEmpty() && r.smtp().isEmpty()) {
            env.out().println("  nothing found; the servers are asked for instead");
        }
        return r;
    }

    private UpstreamEndpoint endpoint(Protocol protocol, String flag, Optional<DiscoveredServer> found, String address) {
        String name = protocol == Protocol.IMAP ? "imap" : "smtp";
        if (flag != null) {
            return parseEndpoint(flag, protocol, "--" + name);
        }
        String example = protocol == Protocol.IMAP ? "imaps://HOST:993 or imap+starttls://HOST:143"
                : "smtps://HOST:465 or smtp+starttls://HOST:587";
        if (lines == null) {
            DiscoveredServer s = found.orElseThrow(() -> new ConfigError("--" + name + " " + example
                    + " is needed: nothing usable was discovered" + (noDiscover ? " (--no-discover)" : "")));
            if (!trustworthy(s, address)) {
                throw new ConfigError(s.source() + " names " + s.endpoint() + ", outside "
                        + MailDomains.domainOf(address).orElseThrow() + "; that answer is not authenticated, so "
                        + "confirm it with --" + name + " " + s.endpoint());
            }
            return s.endpoint();
        }
        String question = (protocol == Protocol.IMAP ? "IMAP" : "SMTP") + " server of the provider (" + example + ")";
        if (found.isPresent() && !trustworthy(found.get(), address)) {
            env.out().println("  careful: " + found.get().endpoint().host() + " is not under "
                    + MailDomains.domainOf(address).orElseThrow() + " and " + found.get().source()
                    + " is not authenticated; accept it only if it is your provider's server");
        }
        for (int attempt = 0; ; attempt++) {
            String answer = ask(question, found.map(s -> s.endpoint().toString()).orElse(null), "--" + name);
            try {
                return parseEndpoint(answer, protocol, "--" + name);
            } catch (ConfigError e) {
                if (attempt >= 2) {
                    throw e;
                }
                env.out().println("  " + e.getMessage());
            }
        }
    }

    private static boolean trustworthy(DiscoveredServer s, String address) {
        return s.authenticated() || MailDomains.within(s.endpoint().host(), MailDomains.domainOf(address).orElseThrow());
    }

    /** A URL as {@link UpstreamEndpoint#parse} takes it; a bare host name gets implicit TLS on the usual port. */
    static UpstreamEndpoint parseEndpoint(String text, Protocol protocol, String what) {
        String t = text.trim();
        if (!t.contains("://")) {
            t = (protocol == Protocol.IMAP ? "imaps://" : "smtps://") + t;
        }
        try {
            UpstreamEndpoint e = UpstreamEndpoint.parse(t, protocol);
            if (MailDomains.hostname(e.host()).isEmpty() && !e.host().contains(":")) {
                throw new IllegalArgumentException("\"" + e.host() + "\" is not a host name");
            }
            return e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError(what + " " + text + ": " + e.getMessage());
        }
    }

    private ListenAddress listenAddress(String flag, ListenAddress fallback) {
        if (flag != null) {
            try {
                return ListenAddress.parse(flag);
            } catch (IllegalArgumentException e) {
                throw new ConfigError(flag + ": " + e.getMessage());
            }
        }
        String host = listen;
        if (host == null && lines != null && listenAsked == null) {
            listenAsked = ask("Address to listen on for mail clients (127.0.0.1 keeps mailproxy to this machine; "
                    + "an address on your network lets other devices connect with a generated local password)",
                    fallback.host(), "--listen");
        }
        if (host == null) {
            host = listenAsked != null ? listenAsked.trim() : fallback.host();
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        // A host name, an IPv4 address or an IPv6 address (two colons at least); "host:port" is not an address.
        boolean ipv6 = host.indexOf(':') != host.lastIndexOf(':') && host.matches("[0-9A-Fa-f:.]+");
        if (!ipv6 && MailDomains.hostname(host).isEmpty()) {
            throw new ConfigError("--listen " + host + ": expected an address such as 127.0.0.1, 0.0.0.0 or ::1 "
                    + "(ports: --imap-listen HOST:PORT, --smtp-listen HOST:PORT)");
        }
        try {
            return new ListenAddress(host, fallback.port());
        } catch (IllegalArgumentException e) {
            throw new ConfigError("--listen " + host + ": " + e.getMessage());
        }
    }

    private String listenAsked;

    /** A key already in the data directory, a new one, or one imported from a file. */
    private KeyChoice chooseKey(Path data, String address) throws IOException {
        if (importKey != null) {
            return KeyChoice.importing(importKey);
        }
        if (generateKey) {
            return KeyChoice.generating(KeysCommand.passphrase(passphraseFile, lines == null ? noTerminal() : env,
                    "Passphrase for the new key of " + address + ": ", true));
        }
        Optional<KeyInfo> existing = existingKey(data, address);
        if (existing.isPresent()) {
            return KeyChoice.existing(existing.get());
        }
        if (lines == null) {
            throw new ConfigError("the account needs a key: --generate-key (with --passphrase-file FILE) or "
                    + "--import-key FILE");
        }
        String answer = ask("No key for " + address + " yet. Generate one (g) or import one from a file (i)?", "g",
                "--generate-key");
        if (answer.trim().toLowerCase(Locale.ROOT).startsWith("i")) {
            return KeyChoice.importing(Path.of(ask("File with the secret key (e.g. from gpg --export-secret-keys "
                    + "--armor " + address + ")", null, "--import-key").trim()));
        }
        return KeyChoice.generating(KeysCommand.passphrase(passphraseFile, env,
                "Passphrase for the new key of " + address + ": ", true));
    }

    /** The environment with no terminal, so that a passphrase is never asked for under --non-interactive. */
    private Main.Environment noTerminal() {
        return new Main.Environment(env.variables(), env.userHome(), env.out(), env.err(), () -> null);
    }

    private static Optional<KeyInfo> existingKey(Path data, String address) throws IOException {
        if (!Files.isDirectory(data.resolve("keys"))) {
            return Optional.empty();
        }
        Keyring ring = Keyring.open(data.resolve("keys"));
        for (String fpr : ring.fingerprintsFor(address)) {
            Optional<KeyInfo> k = ring.find(fpr);
            if (k.isPresent() && k.get().secret()) {
                return k;
            }
        }
        return Optional.empty();
    }

    private char[] providerPassword(String loginName) {
        if (providerPasswordFile != null) {
            return CheckCommand.readPasswordFile(providerPasswordFile);
        }
        Main.PasswordPrompt terminal = lines == null ? null : env.terminal().get();
        if (terminal == null) {
            throw new ConfigError("with local authentication in force (listeners beyond loopback, or local-auth = "
                    + "always) mailproxy logs in to the provider itself and needs the password: "
                    + "--provider-password-file FILE");
        }
        char[] p = terminal.ask("Password at the provider for " + loginName
                + " (stored encrypted to the account's key): ");
        if (p == null || p.length == 0) {
            throw new ConfigError("an empty provider password is not accepted");
        }
        return p;
    }

    /** The answer to {@code question}, {@code fallback} on an empty line; an error without a terminal. */
    private String ask(String question, String fallback, String flag) {
        if (lines == null) {
            if (fallback != null) {
                return fallback;
            }
            throw new ConfigError(flag + " is needed" + (nonInteractive ? " with --non-interactive"
                    : " (there is no terminal to ask on)"));
        }
        String answer = lines.ask(question + (fallback != null ? " [" + fallback + "]" : "") + ": ");
        if (answer == null) {
            throw new ConfigError("no answer for: " + question);
        }
        if (answer.isBlank()) {
            if (fallback == null) {
                throw new ConfigError("an answer is needed for: " + question);
            }
            return fallback;
        }
        return answer.trim();
    }

    // ------------------------------------------------------------------ the key

    /** How the account gets its key; applied only once every question is answered. */
    private interface KeyChoice {
        KeyInfo apply(Keyring ring, String address) throws IOException, KeyException;

        String describe();

        default void wipe() {
        }

        static KeyChoice existing(KeyInfo key) {
            return new KeyChoice() {
                @Override
                public KeyInfo apply(Keyring ring, String address) {
                    return key;
                }

                @Override
                public String describe() {
                    return "already in the data directory";
                }
            };
        }

        static KeyChoice generating(char[] passphrase) {
            return new KeyChoice() {
                @Override
                public KeyInfo apply(Keyring ring, String address) throws KeyException {
                    return ring.generate(address, passphrase, KeyVersion.V4, Keyring.DEFAULT_VALIDITY);
                }

                @Override
                public String describe() {
                    return "new";
                }

                @Override
                public void wipe() {
                    Arrays.fill(passphrase, '\0');
                }
            };
        }

        static KeyChoice importing(Path file) {
            if (!Files.isRegularFile(file)) {
                throw new ConfigError(file + ": no such file");
            }
            return new KeyChoice() {
                @Override
                public KeyInfo apply(Keyring ring, String address) throws IOException, KeyException {
                    List<KeyInfo> imported;
                    try (InputStream in = Files.newInputStream(file)) {
                        imported = ring.importKeys(in);
                    }
                    List<String> mine = new ArrayList<>(ring.fingerprintsFor(address));
                    for (KeyInfo k : imported) {
                        if (k.secret() && mine.contains(k.fingerprint())) {
                            return k;
                        }
                    }
                    throw new ConfigError(file + " holds no usable secret key with a user ID for " + address
                            + (imported.stream().anyMatch(KeyInfo::secret) ? "" : " (only public keys: export with "
                            + "gpg --export-secret-keys)"));
                }

                @Override
                public String describe() {
                    return "imported from " + file;
                }
            };
        }
    }
}
