package org.mailproxy.app;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The demo end to end with a real client (Angus Mail, STARTTLS as Thunderbird is told to use): read Alice's seeded
 * INBOX through the proxy, send Alice to Bob through the proxy, read it back as Bob through the proxy. The logs of
 * the whole run must not contain a password or a message body (SECURITY.md 24).
 */
class DemoTest {

    @TempDir
    Path tmp;

    private Demo demo;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    @BeforeEach
    void start() throws Exception {
        logs.start();
        root.addAppender(logs);
        demo = Demo.start(new Demo.Options(tmp.resolve("demo"), 0, 0, 0));
    }

    @AfterEach
    void stop() {
        if (demo != null) {
            demo.close();
        }
        root.detachAppender(logs);
    }

    private Session client() throws Exception {
        return MailClients.startTls(demo.localCertificate().orElseThrow());
    }

    /** The newest message of the user's INBOX as the client reads it through the proxy. */
    private byte[] newest(Session session, Demo.User user) throws Exception {
        try (Store store = session.getStore("imap")) {
            store.connect("127.0.0.1", demo.imapAddress().getPort(), user.address(), user.password());
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                inbox.getMessage(inbox.getMessageCount()).writeTo(out);
                return out.toByteArray();
            } finally {
                inbox.close();
            }
        }
    }

    private List<String> subjects(Session session, Demo.User user) throws Exception {
        return read(session, user).stream().map(m -> m[0]).toList();
    }

    /** Subject and text of every message in the user's INBOX, as the client reads them through the proxy. */
    private List<String[]> read(Session session, Demo.User user) throws Exception {
        try (Store store = session.getStore("imap")) {
            store.connect("127.0.0.1", demo.imapAddress().getPort(), user.address(), user.password());
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                List<String[]> messages = new java.util.ArrayList<>();
                for (Message m : inbox.getMessages()) {
                    Object content = m.getContent();
                    messages.add(new String[]{m.getSubject(), content instanceof String t ? t : String.valueOf(content)});
                }
                return messages;
            } finally {
                inbox.close();
            }
        }
    }

    @Test
    void aliceReadsHerInboxAndWritesToBobThroughTheProxy() throws Exception {
        Demo.User alice = Demo.USERS.get(0);
        Demo.User bob = Demo.USERS.get(1);
        Session session = client();
        // the provider holds the seeded mail encrypted (see the next test); the client reads it decrypted
        List<String[]> seeded = read(session, alice);
        assertThat(seeded).hasSize(Demo.SEEDS.size());
        for (int i = 0; i < seeded.size(); i++) {
            Demo.Seed seed = Demo.SEEDS.get(i);
            assertThat(seeded.get(i)[0]).isEqualTo(seed.subject());
            if (seed.protection() == Demo.Protection.INLINE_PGP) {
                // the decrypted inline message is base64 text/plain; a client decodes it by the BODYSTRUCTURE it
                // was given, so the exact text needs a BODYSTRUCTURE made from the decrypted message
                assertThat(seeded.get(i)[1]).doesNotContain("PGP MESSAGE");
            } else {
                // the embedded provider's BODY[TEXT] drops the text's last line end
                assertThat(seeded.get(i)[1].stripTrailing()).isEqualTo(seed.body().stripTrailing());
            }
        }

        String subject = "demo " + UUID.randomUUID();
        String body = "canary-body-" + UUID.randomUUID();
        MimeMessage m = new MimeMessage(session);
        m.setFrom(new InternetAddress(alice.address()));
        m.setRecipients(Message.RecipientType.TO, bob.address());
        m.setSubject(subject);
        m.setText(body + "\r\n");
        try (Transport t = session.getTransport("smtp")) {
            t.connect("127.0.0.1", demo.smtpAddress().getPort(), alice.address(), alice.password());
            t.sendMessage(m, m.getAllRecipients());
        }
        // both demo users have keys: the provider stores the message encrypted, the real subject inside
        await().atMost(Duration.ofSeconds(10)).until(() -> subjects(session, bob).size() == 1);
        java.io.ByteArrayOutputStream atProvider = new java.io.ByteArrayOutputStream();
        List<MimeMessage> bobs = new java.util.ArrayList<>();
        for (MimeMessage stored : demo.upstream().greenMail().getReceivedMessages()) {
            if (java.util.Arrays.stream(stored.getAllRecipients()).anyMatch(a -> a.toString().equals(bob.address()))) {
                bobs.add(stored);
            }
        }
        assertThat(bobs).hasSize(1);
        bobs.get(0).writeTo(atProvider);
        byte[] stored = atProvider.toByteArray();
        assertThat(new String(newest(session, bob), StandardCharsets.UTF_8)).as("read through the proxy")
                .contains("Subject: " + subject + "\r\n").contains(body)
                .contains(PgpMimeDecryptor.STATUS_HEADER + ": decrypted; integrity=ok; signature=valid");
        assertThat(new String(stored, StandardCharsets.UTF_8)).contains("Subject: [...]")
                .contains("multipart/encrypted").doesNotContain(subject).doesNotContain(body);
        Path data = tmp.resolve("demo").resolve("data");
        Keyring keyring = Keyring.open(data.resolve("keys"));
        try (UnlockedKey bobKey = keyring.unlock(bob.address(),
                PassphraseSource.fromFile(Demo.passphraseFile(tmp.resolve("demo"), bob)));
             DecryptedMessage d = new PgpMimeDecryptor(new Decryptor(keyring, List.of(bobKey),
                     OpenPgpLimits.DEFAULTS, null), new DetachedVerifier(keyring), OpenPgpLimits.DEFAULTS, null)
                     .decrypt(new ByteArrayInputStream(stored))) {
            assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            assertThat(d.subject()).contains(subject);
            assertThat(d.signatures()).singleElement()
                    .satisfies(sig -> assertThat(sig.status()).isEqualTo(SignatureResult.Status.VALID));
            assertThat(new String(d.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8)).contains(body);
        }

        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + demo.httpAddress().orElseThrow().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("mailproxy_sessions_total{protocol=\"imap\"}")
                .contains("mailproxy_sessions_total{protocol=\"smtp\"}");

        demo.close();
        demo = null;
        // AUTH PLAIN carries the password base64-encoded (RFC 4616); that form must not leak either.
        String authPlain = java.util.Base64.getEncoder().encodeToString(
                ("\0" + alice.address() + "\0" + alice.password()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(logs.list).isNotEmpty().allSatisfy(e -> assertThat(e.getFormattedMessage() + " "
                + (e.getThrowableProxy() == null ? "" : ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(e.getThrowableProxy())))
                .doesNotContain(alice.password()).doesNotContain(bob.password()).doesNotContain(body)
                .doesNotContain(authPlain).doesNotContain(authPlain.substring(0, authPlain.length() - 4)));
        assertThat(logs.list).extracting(ILoggingEvent::getFormattedMessage)
                .anyMatch(s -> s.startsWith("mailproxy ready"))
                .anyMatch(s -> s.equals("mailproxy stopped"));
    }

    @Test
    void theProviderHoldsAlicesSeededMailAsCiphertextThatHerKeyDecrypts() throws Exception {
        Demo.User alice = Demo.USERS.get(0);
        MimeMessage[] stored = demo.upstream().greenMail().getReceivedMessages();
        assertThat(stored).hasSize(Demo.SEEDS.size());
        Path demoDir = tmp.resolve("demo");
        Keyring keyring = Keyring.open(demoDir.resolve("data").resolve("keys"));
        String bobFingerprint = keyring.fingerprintsFor("bob@demo.test").get(0);
        try (UnlockedKey aliceKey = keyring.unlock(alice.address(),
                PassphraseSource.fromFile(Demo.passphraseFile(demoDir, alice)))) {
            PgpMimeDecryptor decryptor = new PgpMimeDecryptor(new Decryptor(keyring, List.of(aliceKey),
                    OpenPgpLimits.DEFAULTS, null), new DetachedVerifier(keyring), OpenPgpLimits.DEFAULTS, null);
            for (int i = 0; i < stored.length; i++) {
                Demo.Seed seed = Demo.SEEDS.get(i);
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                stored[i].writeTo(out);
                byte[] raw = out.toByteArray();
                String text = new String(raw, StandardCharsets.UTF_8);
                String firstLine = seed.body().lines().findFirst().orElseThrow();
                try (DecryptedMessage d = decryptor.decrypt(new ByteArrayInputStream(raw))) {
                    switch (seed.protection()) {
                        case PGP_MIME -> {
                            assertThat(text).contains("multipart/encrypted").contains("Subject: [...]")
                                    .doesNotContain(seed.subject()).doesNotContain(firstLine);
                            assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                            assertThat(d.format()).isEqualTo(DecryptedMessage.Format.PGP_MIME);
                            assertThat(d.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.RFC9788);
                            assertThat(d.subject()).contains(seed.subject());
                            assertThat(d.signatures()).singleElement().satisfies(sig -> {
                                assertThat(sig.status()).isEqualTo(SignatureResult.Status.VALID);
                                assertThat(sig.signerFingerprint()).contains(bobFingerprint);
                                assertThat(sig.fromMatches()).isTrue();
                            });
                            assertThat(new String(d.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8))
                                    .endsWith("\r\n\r\n" + seed.body());
                        }
                        case INLINE_PGP -> {
                            assertThat(text).contains("-----BEGIN PGP MESSAGE-----").doesNotContain(firstLine);
                            assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                            assertThat(d.format()).isEqualTo(DecryptedMessage.Format.INLINE);
                            MimeMessage m = new MimeMessage(Session.getInstance(new java.util.Properties()),
                                    d.message().orElseThrow().openStream());
                            assertThat(m.getSubject()).isEqualTo(seed.subject());
                            assertThat(m.getContent()).isEqualTo(seed.body());
                        }
                        case PLAIN -> {
                            assertThat(text).contains(firstLine);
                            assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.NOT_ENCRYPTED);
                        }
                    }
                }
            }
        }
        // what the settings tell a person to run to look at the provider's copy
        List<String> curl = demo.providerFetchCommand(alice, 1);
        assertThat(demo.thunderbirdSettings()).contains(curl.get(curl.size() - 1));
        Process p = new ProcessBuilder(curl).redirectErrorStream(true).start();
        String fetched = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(fetched).isZero();
        assertThat(fetched).contains("-----BEGIN PGP MESSAGE-----").contains("Subject: [...]")
                .doesNotContain(Demo.SEEDS.get(0).subject());
    }

    @Test
    void keysAreMadeOnceAndKeptFromRunToRun() throws Exception {
        Path dir = tmp.resolve("demo");
        Keyring keyring = Keyring.open(dir.resolve("data").resolve("keys"));
        List<String> before = keyring.list().stream().filter(k -> k.secret()).map(k -> k.fingerprint()).sorted()
                .toList();
        assertThat(before).hasSize(2);
        for (Demo.User u : Demo.USERS) {
            assertThat(java.nio.file.Files.getPosixFilePermissions(Demo.passphraseFile(dir, u)))
                    .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        }
        assertThat(demo.daemon().context().accountKeys().isUnlocked("alice@demo.test")).isTrue();
        demo.close();
        demo = Demo.start(new Demo.Options(dir, 0, 0, -1));
        assertThat(Keyring.open(dir.resolve("data").resolve("keys")).list().stream().filter(k -> k.secret())
                .map(k -> k.fingerprint()).sorted().toList()).isEqualTo(before);
    }

    @Test
    void theSettingsNameEverythingThunderbirdAsks() {
        String s = demo.thunderbirdSettings();
        int imap = demo.imapAddress().getPort();
        int smtp = demo.smtpAddress().getPort();
        for (Demo.User u : Demo.USERS) {
            assertThat(s).contains(u.address() + "   password: " + u.password());
        }
        assertThat(s).contains("Incoming  IMAP  server 127.0.0.1  port " + imap)
                .contains("Outgoing  SMTP  server 127.0.0.1  port " + smtp)
                .contains("connection security STARTTLS")
                .contains("authentication Normal password")
                .contains("user name alice@demo.test")
                .contains("Ctrl-C")
                .contains("Alice's INBOX at the provider holds 3 messages")
                .contains("\"Welcome to the mailproxy demo\" from bob@demo.test: PGP/MIME encrypted to Alice's key, "
                        + "subject hidden inside, signed by Bob")
                .contains("\"Lunch on Friday?\" from bob@demo.test: inline PGP")
                .contains("\"Demo newsletter\" from news@demo.test: not encrypted")
                .contains("Alice's mail client shows the encrypted ones decrypted, while the provider\nkeeps only their ciphertext")
                .contains("curl --silent --cacert " + demo.upstream().caCertificate()
                        + " --user alice@demo.test:alice-demo-password 'imaps://localhost:"
                        + demo.upstream().imapsPort() + "/INBOX;UID=1'");
        // The fingerprint as openssl and Thunderbird write it: 32 upper-case hex pairs joined by colons.
        assertThat(s).containsPattern("\\n  ([0-9A-F]{2}:){31}[0-9A-F]{2}\\n")
                .contains(Demo.fingerprint(demo.localCertificate().orElseThrow()));
    }
}
