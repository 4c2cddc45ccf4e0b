package org.mailproxy.app;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code mailproxy demo} without a provider: an {@link EmbeddedUpstream} with two users plays the provider, and a
 * {@link Daemon} configured in code sits in front of it exactly as it would in front of a real one (upstream TLS
 * verified against the demo's certificate, STARTTLS towards the local client).
 *
 * <p>The demo directory holds {@code data/}, the proxy's data directory (owner-only, like a real one), so the local
 * certificate the mail client accepted once stays the same from run to run.
 */
public final class Demo implements AutoCloseable {

    /** A demo user: address (also the login) and password. */
    public record User(String address, String password) {
    }

    /** Where the demo lives and which local ports it listens on (0: any free port). */
    public record Options(Path directory, int imapPort, int smtpPort, int metricsPort) {
    }

    public static final List<User> USERS = List.of(
            new User("alice@demo.test", "alice-demo-password"),
            new User("bob@demo.test", "bob-demo-password"));

    private final EmbeddedUpstream upstream;
    private final Daemon daemon;

    private Demo(EmbeddedUpstream upstream, Daemon daemon) {
        this.upstream = upstream;
        this.daemon = daemon;
    }

    /** Starts the embedded upstream, seeds alice's INBOX and starts the proxy in front of it. */
    public static Demo start(Options options) throws IOException {
        Path dir = options.directory().toAbsolutePath();
        if (!Files.exists(dir)) {
            DataDirectory.createOwnerOnly(dir);
        }
        Map<String, String> passwords = new LinkedHashMap<>();
        USERS.forEach(u -> passwords.put(u.address(), u.password()));
        EmbeddedUpstream upstream = EmbeddedUpstream.start(passwords);
        try {
            seed(upstream);
            Path data = dir.resolve("data");
            ensureKeys(dir, data);
            MailproxyConfig config = new ConfigLoader().loadString(hocon(options, data, upstream), "demo");
            return new Demo(upstream, Daemon.start(config));
        } catch (RuntimeException e) {
            upstream.close();
            throw e;
        }
    }

    static String hocon(Options options, Path dataDir, EmbeddedUpstream upstream) {
        StringBuilder accounts = new StringBuilder();
        for (User u : USERS) {
            accounts.append("    { email = ").append(quote(u.address()))
                    .append(", imap.upstream = ").append(quote(upstream.imapUrl()))
                    .append(", smtp.upstream = ").append(quote(upstream.smtpUrl()))
                    .append(", key.passphrase-file = ").append(quote(passphraseFile(dataDir.getParent(), u).toString()))
                    .append(" }\n");
        }
        return "mailproxy {\n"
                + "  data-dir = " + quote(dataDir.toString()) + "\n"
                + "  imap.listen = " + quote("127.0.0.1:" + options.imapPort()) + "\n"
                + "  smtp.listen = " + quote("127.0.0.1:" + options.smtpPort()) + "\n"
                + "  metrics.listen = " + quote(options.metricsPort() < 0 ? "off" : "127.0.0.1:" + options.metricsPort()) + "\n"
                + "  tls.trusted-ca-file = " + quote(upstream.caCertificate().toString()) + "\n"
                + "  local-tls.mode = starttls\n"
                + "  shutdown.grace-period = 5s\n"
                + "  accounts = [\n" + accounts + "  ]\n"
                + "}\n";
    }

    /** Where the demo keeps a user's key passphrase (owner-only, beside the data directory). */
    static Path passphraseFile(Path demoDir, User u) {
        return demoDir.resolve(u.address().substring(0, u.address().indexOf('@')) + ".passphrase");
    }

    /**
     * Gives every demo user an OpenPGP key, once: both keys sit in the proxy's keyring, so mail between alice and
     * bob goes out encrypted and the embedded provider stores only ciphertext. The passphrases are random and kept
     * in owner-only files that the accounts' {@code key.passphrase-file} names, so the daemon unlocks at start.
     */
    static void ensureKeys(Path demoDir, Path dataDir) throws IOException {
        if (!Files.exists(dataDir)) {
            DataDirectory.createOwnerOnly(dataDir);
        }
        Keyring keyring = Keyring.open(dataDir.resolve("keys"));
        java.security.SecureRandom random = new java.security.SecureRandom();
        for (User u : USERS) {
            Path file = passphraseFile(demoDir, u);
            boolean hasKey = keyring.list().stream().anyMatch(k -> k.secret() && k.userIds().stream()
                    .anyMatch(id -> id.contains("<" + u.address() + ">")));
            if (hasKey && Files.exists(file)) {
                continue;
            }
            byte[] bytes = new byte[18];
            random.nextBytes(bytes);
            char[] passphrase = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).toCharArray();
            Files.deleteIfExists(file);
            Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, new String(passphrase) + "\n");
            for (String fpr : keyring.fingerprintsFor(u.address())) {
                keyring.delete(fpr);
            }
            try {
                keyring.generate(u.address(), passphrase, KeyVersion.V4);
            } catch (KeyException e) {
                throw new IOException("cannot generate the demo key for " + u.address() + ": " + e.getMessage(), e);
            } finally {
                java.util.Arrays.fill(passphrase, '\0');
            }
        }
    }

    /** A HOCON quoted string (JSON rules). */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static void seed(EmbeddedUpstream upstream) {
        Session session = Session.getInstance(new Properties());
        String alice = USERS.get(0).address();
        String bob = USERS.get(1).address();
        String[][] messages = {
                {bob, "Welcome to the mailproxy demo",
                        "Hello Alice,\r\n\r\nthis message was read from the embedded provider through mailproxy.\r\n"},
                {bob, "Lunch on Friday?",
                        "Shall we try the new place by the river?\r\n\r\nBob\r\n"},
                {"news@demo.test", "Demo newsletter",
                        "Nothing to read here: the demo seeds three messages into Alice's inbox.\r\n"}};
        Instant when = Instant.now().minusSeconds(3600);
        try {
            for (String[] m : messages) {
                MimeMessage message = new MimeMessage(session);
                message.setFrom(new InternetAddress(m[0]));
                message.setRecipients(MimeMessage.RecipientType.TO, alice);
                message.setSubject(m[1], "UTF-8");
                message.setText(m[2], "UTF-8");
                message.setSentDate(Date.from(when));
                when = when.plusSeconds(600);
                message.saveChanges();
                upstream.user(alice).deliver(message);
            }
        } catch (MessagingException e) {
            throw new IllegalStateException("cannot seed the demo mailbox: " + e.getMessage(), e);
        }
    }

    public InetSocketAddress imapAddress() {
        return daemon.imapAddress();
    }

    public InetSocketAddress smtpAddress() {
        return daemon.smtpAddress();
    }

    public Optional<InetSocketAddress> metricsAddress() {
        return daemon.metricsAddress();
    }

    public EmbeddedUpstream upstream() {
        return upstream;
    }

    public Daemon daemon() {
        return daemon;
    }

    /** The proxy's local certificate, which the mail client is asked to accept once. */
    public Optional<Path> localCertificate() {
        return daemon.context().localTls().certificateFile();
    }

    /** What to type into Thunderbird, for both users. */
    public String thunderbirdSettings() {
        StringBuilder b = new StringBuilder();
        b.append("mailproxy demo is running. An embedded mail server plays the provider (IMAPS on 127.0.0.1:")
                .append(upstream.imapsPort()).append(", SMTPS on 127.0.0.1:").append(upstream.smtpsPort())
                .append("); mailproxy sits in front of it.\n\n");
        b.append("In Thunderbird: Account Settings > Account Actions > Add Mail Account. Enter the address and password,\n")
                .append("choose \"Configure manually\" and fill in:\n");
        for (User u : USERS) {
            b.append('\n').append("  ").append(u.address()).append("   password: ").append(u.password()).append('\n');
            b.append(serverLine("Incoming", "IMAP", imapAddress(), u));
            b.append(serverLine("Outgoing", "SMTP", smtpAddress(), u));
        }
        b.append('\n');
        localCertificate().ifPresent(c -> b.append("Thunderbird asks once to accept mailproxy's own certificate (")
                .append(c).append(").\nConfirm the security exception when the SHA-256 fingerprint it shows is\n  ")
                .append(fingerprint(c)).append('\n'));
        metricsAddress().ifPresent(m -> b.append("Metrics: http://127.0.0.1:").append(m.getPort()).append("/metrics\n"));
        b.append("Alice and Bob have OpenPGP keys (in ").append(daemon.context().config().dataDir().resolve("keys"))
                .append("):\nmail one sends the other through mailproxy is signed and encrypted before it leaves, and the\n")
                .append("provider stores only the encrypted PGP/MIME message.\n");
        b.append("Stop the demo with Ctrl-C.\n");
        return b.toString();
    }

    /** SHA-256 over the DER certificate, written as {@code openssl x509 -fingerprint -sha256} and Thunderbird do. */
    static String fingerprint(Path pem) {
        try (var in = Files.newInputStream(pem)) {
            byte[] der = java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in).getEncoded();
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(der);
            return java.util.HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (IOException | java.security.GeneralSecurityException e) {
            return "(cannot read " + pem + ": " + e.getMessage() + ")";
        }
    }

    private static String serverLine(String direction, String protocol, InetSocketAddress address, User u) {
        return String.format("    %-8s  %-4s  server 127.0.0.1  port %-5d  connection security STARTTLS  "
                + "authentication Normal password  user name %s%n", direction, protocol, address.getPort(), u.address());
    }

    public void awaitStopped() {
        daemon.awaitStopped();
    }

    /** Stops the proxy (as SIGTERM would), then the embedded upstream. */
    @Override
    public void close() {
        try {
            daemon.stop();
        } finally {
            upstream.close();
        }
    }
}
