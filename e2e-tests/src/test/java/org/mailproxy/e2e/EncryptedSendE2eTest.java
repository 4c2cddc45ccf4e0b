package org.mailproxy.e2e;

import jakarta.activation.DataHandler;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * swaks, msmtp, Python's smtplib and Angus Mail send alice's mail to bob through the proxy (STARTTLS to the proxy,
 * implicit TLS upstream) with encryption on: alice's key is unlocked at start, bob's certificate (made by gpg) is
 * in the keyring. What Dovecot stores for bob must be PGP/MIME with the obscured Subject and no readable trace of
 * the Subject or body; bob's own gpg decrypts it, finds alice's good signature and the sent body octet for octet
 * with the sent Subject inside; alice's gpg decrypts her copy too; the message names exactly bob's and alice's
 * encryption keys.
 */
@RequiresMailStack
class EncryptedSendE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    static Path classDir;

    private static PgpWorld world;
    private static RunningProxy proxy;

    @TempDir
    Path dir;

    @BeforeAll
    static void start(MailStack stack) throws Exception {
        world = new PgpWorld(classDir, BOB, CAROL);
        proxy = RunningProxy.start(stack, classDir, Local.STARTTLS, Upstream.IMPLICIT, "", world.aliceAccount(""));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (world != null) {
            world.close();
        }
    }

    /** Waits for bob's copy and judges it as bob and as alice would; the words must not be readable in it. */
    private static void assertDeliveredEncrypted(MailStack stack, String marker, byte[] sent, String... words) {
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        List<String> secrets = List.of(words);
        world.assertEncrypted(stored, sent, BOB, secrets);
        world.assertEncrypted(stored, sent, ALICE, secrets);
        Set<String> expected = new HashSet<>(world.encryptionKeyIds(BOB));
        expected.addAll(world.encryptionKeyIds(ALICE));
        assertThat(world.recipientKeyIds(stored)).as("the keys the message is encrypted to")
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void swaksMessageIsStoredEncryptedAndSigned(MailStack stack) {
        Tool swaks = Tool.require("swaks");
        MailUser alice = stack.alice();
        String marker = "swaks-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.secret(alice.email(), BOB, marker, subjectWord, bodyWord);
        Tool.Result r = swaks.run(dir, TIMEOUT, List.of(
                "--server", "127.0.0.1", "--port", Integer.toString(proxy.smtpPort()),
                "--ehlo", "client.example.test", "-tls",
                "--from", alice.email(), "--to", BOB,
                "--auth", "PLAIN", "--auth-user", alice.login(), "--auth-password", alice.password(),
                "--data", "-", "--timeout", "30"),
                // swaks ends the data with its own CRLF before the dot
                Arrays.copyOf(message, message.length - 2), Map.of());
        assertThat(r.exit()).as(r.describe() + "\n" + r.out()).isZero();
        assertThat(r.out()).contains("<~  250 2.0.0");
        assertDeliveredEncrypted(stack, marker, message, subjectWord, bodyWord, "Grüße", "日本語");
    }

    private Tool.Result msmtp(MailUser alice, byte[] message, String... recipients) throws IOException {
        Tool msmtp = Tool.require("msmtp");
        Path rc = dir.resolve("msmtprc");
        Files.writeString(rc, "account proxy\n"
                + "host 127.0.0.1\n"
                + "port " + proxy.smtpPort() + "\n"
                + "domain client.example.test\n"
                + "from " + alice.email() + "\n"
                + "auth plain\n"
                + "user " + alice.login() + "\n"
                + "password " + alice.password() + "\n"
                + "tls on\ntls_starttls on\ntls_trust_file " + proxy.localCert() + "\n"
                + "timeout 30\n");
        Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));
        List<String> args = new ArrayList<>(List.of("-C", rc.toString(), "-a", "proxy", "--"));
        args.addAll(List.of(recipients));
        return msmtp.run(dir, TIMEOUT, args, message, Map.of());
    }

    @Test
    void msmtpMessageIsStoredEncryptedAndSigned(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = "msmtp-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.secret(alice.email(), BOB, marker, subjectWord, bodyWord);
        Tool.Result r = msmtp(alice, message, BOB);
        assertThat(r.exit()).as(r.describe()).isZero();
        assertDeliveredEncrypted(stack, marker, message, subjectWord, bodyWord, "Grüße", "日本語");
    }

    /** msmtp (which pipelines) with carol as a Bcc recipient: her own copy, and bob's copy names no key of hers. */
    @Test
    void msmtpWithABccRecipientGivesHerACopyOfHerOwn(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = "msmtp-bcc-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.secret(alice.email(), BOB, marker, subjectWord, bodyWord);
        Tool.Result r = msmtp(alice, message, BOB, CAROL);
        assertThat(r.exit()).as(r.describe()).isZero();
        assertDeliveredEncrypted(stack, marker, message, subjectWord, bodyWord, "Grüße", "日本語");
        StoredMessage carols = Mailboxes.awaitDelivered(stack, stack.carol(), marker);
        world.assertEncrypted(carols, message, CAROL, List.of(subjectWord, bodyWord));
        Set<String> expected = new HashSet<>(world.encryptionKeyIds(CAROL));
        expected.addAll(world.encryptionKeyIds(ALICE));
        assertThat(world.recipientKeyIds(carols)).as("the keys carol's copy is encrypted to")
                .containsExactlyInAnyOrderElementsOf(expected);
    }

    @Test
    void pythonSmtplibMessageIsStoredEncryptedAndSigned(MailStack stack) throws IOException {
        Tool python = Tool.require("python3");
        MailUser alice = stack.alice();
        String marker = "smtplib-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        byte[] message = TestMessages.secret(alice.email(), BOB, marker, subjectWord, bodyWord);
        Path messageFile = dir.resolve("message.eml");
        Files.write(messageFile, message);
        Path script = Tool.stdlibClient(dir);
        Tool.Result r = python.run(dir, TIMEOUT, List.of(script.toString(), "send", "127.0.0.1",
                Integer.toString(proxy.smtpPort()), "starttls", proxy.localCert().toString(), alice.login(), BOB,
                messageFile.toString()), (alice.password() + "\n").getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(r.exit()).as(r.describe()).isZero();
        assertDeliveredEncrypted(stack, marker, message, subjectWord, bodyWord, "Grüße", "日本語");
    }

    @Test
    void angusMultipartWithAttachmentIsStoredEncryptedAndSigned(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        String marker = "angus-" + UUID.randomUUID();
        String subjectWord = "subj" + UUID.randomUUID();
        String bodyWord = "body" + UUID.randomUUID();
        Session session = AngusMailE2eTest.session(proxy, Local.STARTTLS);
        MimeMessage message = new MimeMessage(session) {
            @Override
            protected void updateMessageID() throws MessagingException {
                setHeader("Message-ID", "<" + marker + "@example.test>");
            }
        };
        message.setFrom(new InternetAddress(alice.email()));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress(BOB));
        message.setSubject("Angus " + subjectWord + " Grüße", "UTF-8");
        MimeBodyPart text = new MimeBodyPart();
        text.setText("Hello Bob,\n.a line with a leading dot\n" + bodyWord + " Grüße\n", "UTF-8");
        MimeBodyPart attachment = new MimeBodyPart();
        byte[] binary = new byte[100_000];
        new Random(11).nextBytes(binary);
        attachment.setDataHandler(new DataHandler(new ByteArrayDataSource(binary, "application/octet-stream")));
        attachment.setFileName("numbers-" + subjectWord + ".bin");
        message.setContent(new MimeMultipart(text, attachment));
        message.saveChanges();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        message.writeTo(sent);
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect(alice.login(), alice.password());
            transport.sendMessage(message, message.getAllRecipients());
        }
        assertDeliveredEncrypted(stack, marker, sent.toByteArray(), subjectWord, bodyWord);
        StoredMessage stored = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        byte[] inner = world.assertEncrypted(stored, sent.toByteArray(), BOB, List.of());
        assertThat(PgpWorld.field(new String(inner, StandardCharsets.UTF_8), "Content-Type"))
                .as("the inner entity is the client's multipart/mixed").startsWith("multipart/mixed");
        assertThat(new String(inner, StandardCharsets.US_ASCII)).as("the attachment's name travels inside")
                .contains("numbers-" + subjectWord + ".bin");
    }
}
