package org.mailproxy.smtp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.SendPolicy;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.KeyLookup;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.smtp.transform.EncryptingTransform;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The session with the encrypting transform in front of a scripted upstream: which transactions reach the upstream
 * (one per Bcc recipient), what each copy can be decrypted with, SIZE, and refusals that leave the client its message.
 */
class EncryptedSubmissionTest {
    private static final char[] PASS = "pass".toCharArray();
    private static final String ALICE = "alice@example.com";
    private static final String BOB = "bob@example.org";
    private static final String CAROL = "carol@example.net";

    @TempDir
    static Path keys;
    @TempDir
    Path dir;
    static Keyring ring;
    static UnlockedKey aliceKey;
    static UnlockedKey bobKey;
    static UnlockedKey carolKey;

    @BeforeAll
    static void generate() throws Exception {
        ring = Keyring.open(keys.resolve("keys"));
        aliceKey = ring.unlock(ring.generate(ALICE, PASS, KeyVersion.V4).fingerprint(), PassphraseSource.ofChars(PASS));
        bobKey = ring.unlock(ring.generate(BOB, PASS, KeyVersion.V4).fingerprint(), PassphraseSource.ofChars(PASS));
        carolKey = ring.unlock(ring.generate(CAROL, PASS, KeyVersion.V4).fingerprint(), PassphraseSource.ofChars(PASS));
    }

    @AfterAll
    static void close() {
        aliceKey.close();
        bobKey.close();
        carolKey.close();
    }

    private static EncryptingTransform transform(SendPolicy policy, boolean unlocked) {
        return new EncryptingTransform(() -> ring, KeyLookup.keyring(ring), a -> policy,
                a -> unlocked ? Optional.of(aliceKey) : Optional.empty(), 64 * 1024);
    }

    private ProxyFixture proxy(FakeSmtpServer up, EncryptingTransform t) throws Exception {
        return new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "", TestPki.TRUSTED_PEM, t);
    }

    private static TestClient session(ProxyFixture p, String... rcpts) throws Exception {
        TestClient c = new TestClient(p.port());
        c.reply();
        c.cmd("EHLO client.example");
        assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", "secret"))).startsWith("235");
        assertThat(c.cmd("MAIL FROM:<" + ALICE + ">")).startsWith("250");
        for (String r : rcpts) {
            assertThat(c.cmd("RCPT TO:<" + r + ">")).startsWith("250");
        }
        return c;
    }

    private static String message(String to, String extra) {
        return "From: Alice <" + ALICE + ">\r\nTo: " + to + "\r\n" + extra + "Subject: Plans\r\n"
                + "Message-ID: <x1@example.com>\r\n\r\nThe plan is secret.\r\n";
    }

    private static Optional<DecryptedMessage> decryptAs(UnlockedKey key, byte[] wire) throws Exception {
        DecryptedMessage m = new PgpMimeDecryptor(new Decryptor(ring, List.of(key), OpenPgpLimits.DEFAULTS, null),
                new DetachedVerifier(ring), OpenPgpLimits.DEFAULTS, null).decrypt(new ByteArrayInputStream(wire));
        if (m.kind() != DecryptedMessage.Kind.DECRYPTED) {
            m.close();
            return Optional.empty();
        }
        return Optional.of(m);
    }

    private static void assertReadableBy(byte[] wire, UnlockedKey reader) throws Exception {
        DecryptedMessage m = decryptAs(reader, wire).orElseThrow(() -> new AssertionError("not decryptable"));
        try (m) {
            assertThat(m.subject()).contains("Plans");
            assertThat(m.signatures()).singleElement()
                    .satisfies(s -> assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID));
            String text = new String(m.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8);
            assertThat(text).endsWith("\r\n\r\nThe plan is secret.\r\n").doesNotContainIgnoringCase("bcc:");
        }
    }

    @Test
    void aBccRecipientGetsACopyOfTheirOwnThatTheOthersCannotRead() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = session(p, BOB, CAROL)) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB, "Bcc: " + CAROL + "\r\n") + ".\r\n");
            assertThat(c.reply()).startsWith("250");
            await().until(() -> up.messages.size() == 2);
            List<String> tx = up.commands.stream().filter(l -> !l.startsWith("EHLO") && !l.startsWith("AUTH"))
                    .map(l -> l.replaceAll(" SIZE=\\d+", "")).toList();
            assertThat(tx).containsExactly("MAIL FROM:<" + ALICE + ">", "RCPT TO:<" + BOB + ">",
                    "RCPT TO:<" + CAROL + ">", "RSET", "MAIL FROM:<" + ALICE + ">", "RCPT TO:<" + BOB + ">", "DATA",
                    "MAIL FROM:<" + ALICE + ">", "RCPT TO:<" + CAROL + ">", "DATA");
            byte[] toBob = up.messages.get(0);
            byte[] toCarol = up.messages.get(1);
            for (byte[] copy : List.of(toBob, toCarol)) {
                assertThat(new String(copy, StandardCharsets.UTF_8)).doesNotContainIgnoringCase("bcc:")
                        .doesNotContain("secret").contains("multipart/encrypted");
            }
            assertReadableBy(toBob, bobKey);
            assertReadableBy(toBob, aliceKey);
            assertThat(decryptAs(carolKey, toBob)).as("bob's copy names no key of carol's").isEmpty();
            assertReadableBy(toCarol, carolKey);
            assertThat(decryptAs(bobKey, toCarol)).isEmpty();
            // the session goes on normally
            assertThat(c.cmd("MAIL FROM:<" + ALICE + ">")).startsWith("250");
        }
    }

    @Test
    void aBccCopyRefusedAfterTheOthersWentOutTellsTheClientWhoHasItAlready() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.acceptMessages = 1;
        try (FakeSmtpServer up = new FakeSmtpServer(o);
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = session(p, BOB, CAROL)) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB, "") + ".\r\n");
            assertThat(c.reply()).startsWith("554 5.0.0").contains("Delivered to " + BOB + " but")
                    .contains("Message rejected as spam");
            assertThat(up.messages).hasSize(1);
            assertThat(c.cmd("RSET")).startsWith("250");
        }
        FakeSmtpServer.Options refusing = new FakeSmtpServer.Options();
        refusing.refusedWhenRepeated = java.util.Set.of(CAROL);
        try (FakeSmtpServer up = new FakeSmtpServer(refusing);
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = session(p, BOB, CAROL)) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB, "") + ".\r\n");
            assertThat(c.reply()).startsWith("554 5.0.0").contains("Delivered to " + BOB + " but").contains("User unknown");
            assertThat(up.messages).hasSize(1);
        }
    }

    @Test
    void aClientLeavingMidDataSendsNothing() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true))) {
            for (String cut : List.of("From: x\r\nTo: " + BOB + "\r\nSubj", message(BOB, "") + "more body\r\n")) {
                TestClient c = session(p, BOB);
                assertThat(c.cmd("DATA")).startsWith("354");
                c.send(cut + "x".repeat(70_000));
                c.close();
            }
            TestClient control = session(p, BOB);
            assertThat(control.cmd("DATA")).startsWith("354");
            control.send(message(BOB, "") + ".\r\n");
            assertThat(control.reply()).startsWith("250");
            control.close();
            await().until(() -> up.events.stream().filter(e -> e.equals("dropped mid-DATA")).count() >= 1);
            assertThat(up.messages).hasSize(1);
            assertReadableBy(up.messages.get(0), bobKey);
        }
    }

    @Test
    void withoutBccOneTransactionCarriesTheEncryptedMessage() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = session(p, BOB, CAROL)) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB + ", Carol <" + CAROL + ">", "") + ".\r\n");
            assertThat(c.reply()).startsWith("250");
            assertThat(up.messages).hasSize(1);
            assertThat(up.commands).doesNotContain("RSET");
            assertReadableBy(up.messages.get(0), bobKey);
            assertReadableBy(up.messages.get(0), carolKey);
        }
    }

    @Test
    void aRecipientWithoutAKeyUnderRequiredIsRefusedBeforeAnythingGoesUpstream() throws Exception {
        SendPolicy required = new SendPolicy(SendPolicy.Encrypt.REQUIRED, SendPolicy.Sign.WHEN_ENCRYPTING, List.of(),
                "[...]", true);
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(required, true));
             TestClient c = session(p, BOB, "dave@nokey.example")) {
            assertThat(c.cmd("DATA")).startsWith("550 5.7.1").contains("dave@nokey.example");
            assertThat(up.commands).doesNotContain("DATA");
            assertThat(c.cmd("RSET")).startsWith("250");
            assertThat(c.cmd("MAIL FROM:<" + ALICE + ">")).startsWith("250");
            assertThat(c.cmd("RCPT TO:<" + BOB + ">")).startsWith("250");
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB, "") + ".\r\n");
            assertThat(c.reply()).startsWith("250");
            assertReadableBy(up.messages.get(0), bobKey);
        }
    }

    @Test
    void aMessageRefusedAtItsHeaderLeavesTheSessionUsable() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = session(p, BOB)) {
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(("X-Filler: " + "f".repeat(900) + "\r\n").repeat(80) + message(BOB, "") + ".\r\n");
            assertThat(c.reply()).startsWith("552 5.3.4");
            await().until(() -> up.commands.contains("RSET"));
            assertThat(up.commands).doesNotContain("DATA");
            // the same connection goes on: no 421, the provider's transaction was reset
            assertThat(c.cmd("MAIL FROM:<" + ALICE + ">")).startsWith("250");
            assertThat(c.cmd("RCPT TO:<" + BOB + ">")).startsWith("250");
            assertThat(c.cmd("DATA")).startsWith("354");
            c.send(message(BOB, "") + ".\r\n");
            assertThat(c.reply()).startsWith("250");
            assertThat(up.messages).hasSize(1);
            assertReadableBy(up.messages.get(0), bobKey);
        }
    }

    @Test
    void aLockedKeyIsATemporaryFailureAndNothingIsSent() throws Exception {
        try (FakeSmtpServer up = new FakeSmtpServer(new FakeSmtpServer.Options());
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, false));
             TestClient c = session(p, BOB)) {
            assertThat(c.cmd("DATA")).startsWith("451 4.7.0").contains("mailproxy keys unlock");
            assertThat(up.messages).isEmpty();
        }
    }

    @Test
    void sizeIsLoweredByTheEncryptionOverheadAndRaisedUpstream() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.size = 10_000_000;
        try (FakeSmtpServer up = new FakeSmtpServer(o);
             ProxyFixture p = proxy(up, transform(SendPolicy.DEFAULT, true));
             TestClient c = new TestClient(p.port())) {
            c.reply();
            String ehlo = c.cmd("EHLO client.example");
            long advertised = (10_000_000L - 65536) * 100 / 140;
            assertThat(ehlo).contains("SIZE " + advertised);
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", "secret"))).startsWith("235");
            assertThat(c.cmd("MAIL FROM:<" + ALICE + "> SIZE=" + (advertised + 1))).startsWith("552");
            assertThat(c.cmd("MAIL FROM:<" + ALICE + "> SIZE=1000")).startsWith("250");
            assertThat(up.commands).contains("MAIL FROM:<" + ALICE + "> SIZE=" + (1000 * 140 / 100 + 65536));
        }
    }
}
