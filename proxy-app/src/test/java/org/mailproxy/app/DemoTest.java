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

    /** The newest message of the user's INBOX as the proxy relays it (byte for byte what the provider stores). */
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
        try (Store store = session.getStore("imap")) {
            store.connect("127.0.0.1", demo.imapAddress().getPort(), user.address(), user.password());
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                List<String> subjects = new java.util.ArrayList<>();
                for (Message m : inbox.getMessages()) {
                    subjects.add(m.getSubject());
                    m.getContent();
                }
                return subjects;
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
        assertThat(subjects(session, alice)).containsExactly(
                "Welcome to the mailproxy demo", "Lunch on Friday?", "Demo newsletter");

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
        byte[] stored = newest(session, bob);
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
                "http://127.0.0.1:" + demo.metricsAddress().orElseThrow().getPort() + "/metrics")).build(),
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
                .contains("Ctrl-C");
        // The fingerprint as openssl and Thunderbird write it: 32 upper-case hex pairs joined by colons.
        assertThat(s).containsPattern("\\n  ([0-9A-F]{2}:){31}[0-9A-F]{2}\\n")
                .contains(Demo.fingerprint(demo.localCertificate().orElseThrow()));
    }
}
