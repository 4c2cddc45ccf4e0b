package org.mailproxy.app;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.KeyLookup;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.PgpMimeEncryptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

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
    public record Options(Path directory, int imapPort, int smtpPort, int httpPort) {
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
            Path data = dir.resolve("data");
            ensureKeys(dir, data);
            seed(upstream, dir, data.resolve("keys"));
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
                + "  http.listen = " + quote(options.httpPort() < 0 ? "off" : "127.0.0.1:" + options.httpPort()) + "\n"
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

    /** How a seeded message is stored at the provider. */
    public enum Protection {
        /** RFC 3156 PGP/MIME encrypted to Alice (and the sender), the header protected inside (RFC 9788). */
        PGP_MIME,
        /** An armored OpenPGP message as the text/plain body; the header (Subject too) stays readable. */
        INLINE_PGP,
        /** Not encrypted. */
        PLAIN
    }

    /** A message in Alice's INBOX when the demo starts. */
    public record Seed(String from, String subject, String body, Protection protection, boolean signedByBob) {
    }

    /** Alice's INBOX, oldest first: encrypted mail the proxy shows decrypted, and one plain message. */
    public static final List<Seed> SEEDS = List.of(
            new Seed("bob@demo.test", "Welcome to the mailproxy demo",
                    "Hello Alice,\r\n\r\nthe provider stores this message encrypted to your key, with its subject hidden\r\n"
                            + "inside and my signature on it; mailproxy decrypted it on the way to your mail client.\r\n"
                            + "\r\nBob\r\n",
                    Protection.PGP_MIME, true),
            new Seed("bob@demo.test", "Lunch on Friday?",
                    "Shall we try the new place by the river?\r\n\r\nBob\r\n\r\n(Inline PGP: this text is stored "
                            + "encrypted, but the subject is not; inline PGP protects the body only.)\r\n",
                    Protection.INLINE_PGP, false),
            new Seed("news@demo.test", "Demo newsletter",
                    "Nothing to read here: this one is not encrypted, so the provider stores it as it was sent.\r\n",
                    Protection.PLAIN, false));

    /**
     * Puts {@link #SEEDS} into Alice's INBOX at the provider: the encrypted ones are made here with the demo keys
     * (Bob signs with his key, which the keyring of Alice's proxy knows), so the provider holds only ciphertext.
     */
    private static void seed(EmbeddedUpstream upstream, Path demoDir, Path keysDir) throws IOException {
        Session session = Session.getInstance(new Properties());
        String alice = USERS.get(0).address();
        User bob = USERS.get(1);
        Keyring keyring = Keyring.open(keysDir);
        Instant when = Instant.now().minusSeconds(3600);
        try (UnlockedKey bobKey = keyring.unlock(bob.address(), PassphraseSource.fromFile(passphraseFile(demoDir, bob)))) {
            KeyLookup lookup = KeyLookup.keyring(keyring);
            List<String> recipients = new ArrayList<>();
            for (String a : List.of(alice, bob.address())) {
                recipients.add(lookup.encryptionKeyFor(a).orElseThrow(() -> new IOException("no demo key for " + a)));
            }
            for (Seed m : SEEDS) {
                byte[] raw = message(m, alice, when, keyring, recipients, m.signedByBob() ? bobKey : null);
                when = when.plusSeconds(600);
                upstream.user(alice).deliver(new MimeMessage(session, new ByteArrayInputStream(raw)));
            }
        } catch (KeyException | MessagingException e) {
            throw new IOException("cannot seed the demo mailbox: " + e.getMessage(), e);
        }
    }

    /** One seeded message as the provider stores it. */
    static byte[] message(Seed m, String to, Instant date, Keyring keyring, List<String> recipients,
                          UnlockedKey signer) throws IOException, KeyException {
        List<HeaderField> header = List.of(
                HeaderField.of("From", m.from()),
                HeaderField.of("To", to),
                HeaderField.of("Subject", m.subject()),
                HeaderField.of("Date", DateTimeFormatter.RFC_1123_DATE_TIME.format(date.atZone(ZoneOffset.UTC))),
                HeaderField.of("Message-ID", "<" + UUID.randomUUID() + "@demo.test>"),
                HeaderField.of("MIME-Version", "1.0"),
                HeaderField.of("Content-Type", "text/plain; charset=utf-8"),
                HeaderField.of("Content-Transfer-Encoding", m.protection() == Protection.INLINE_PGP ? "7bit" : "8bit"));
        byte[] body = m.body().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (m.protection()) {
            case PGP_MIME -> {
                try (OutputStream plain = new PgpMimeEncryptor(new Encryptor(keyring)).open(out, header, recipients,
                        signer, new PgpMimeEncryptor.Options(true))) {
                    plain.write(body);
                }
            }
            case INLINE_PGP -> {
                writeHeader(out, header);
                ByteArrayOutputStream armored = new ByteArrayOutputStream();
                try (OutputStream plain = new Encryptor(keyring).open(armored, recipients, signer, true)) {
                    plain.write(body);
                }
                out.writeBytes(armored.toString(StandardCharsets.US_ASCII).replaceAll("\r?\n", "\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
            }
            case PLAIN -> {
                writeHeader(out, header);
                out.writeBytes(body);
            }
        }
        return out.toByteArray();
    }

    private static void writeHeader(ByteArrayOutputStream out, List<HeaderField> header) {
        StringBuilder h = new StringBuilder();
        header.forEach(f -> h.append(f.toWire()));
        out.writeBytes(h.append("\r\n").toString().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A curl command that fetches one message of a user's INBOX straight from the provider, past mailproxy, to see
     * what the provider stores.
     */
    public List<String> providerFetchCommand(User user, int uid) {
        return List.of("curl", "--silent", "--cacert", upstream.caCertificate().toString(), "--user",
                user.address() + ":" + user.password(), "imaps://localhost:" + upstream.imapsPort() + "/INBOX;UID=" + uid);
    }

    private static String shell(List<String> command) {
        StringBuilder b = new StringBuilder();
        for (String a : command) {
            b.append(b.length() == 0 ? "" : " ");
            b.append(a.matches("[A-Za-z0-9_./:@=+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }

    public InetSocketAddress imapAddress() {
        return daemon.imapAddress();
    }

    public InetSocketAddress smtpAddress() {
        return daemon.smtpAddress();
    }

    public Optional<InetSocketAddress> httpAddress() {
        return daemon.httpAddress();
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
        httpAddress().ifPresent(m -> b.append("Metrics: http://127.0.0.1:").append(m.getPort()).append("/metrics\n"));
        b.append("Alice and Bob have OpenPGP keys (in ").append(daemon.context().config().dataDir().resolve("keys"))
                .append("):\nmail one sends the other through mailproxy is signed and encrypted before it leaves, and the\n")
                .append("provider stores only the encrypted PGP/MIME message.\n\n");
        b.append("Alice's INBOX at the provider holds ").append(SEEDS.size()).append(" messages:\n");
        for (Seed m : SEEDS) {
            b.append("  \"").append(m.subject()).append("\" from ").append(m.from()).append(": ").append(switch (m.protection()) {
                case PGP_MIME -> "PGP/MIME encrypted to Alice's key, subject hidden inside"
                        + (m.signedByBob() ? ", signed by Bob" : "");
                case INLINE_PGP -> "inline PGP, the body encrypted to Alice's key (the subject is not)";
                case PLAIN -> "not encrypted";
            }).append('\n');
        }
        b.append("Read through mailproxy, Alice's mail client shows the encrypted ones decrypted, while the provider\n")
                .append("keeps only their ciphertext. To see what the provider stores, past mailproxy (UID=1 is the oldest\n")
                .append("message; for Bob's INBOX use his address and password):\n  ").append(shell(providerFetchCommand(USERS.get(0), 1)))
                .append("\n\n");
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
