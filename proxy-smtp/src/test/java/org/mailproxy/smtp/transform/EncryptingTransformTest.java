package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.SendPolicy;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyLookup;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.smtp.codec.SmtpException;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The policy decisions and the message each one produces, decrypted and verified back with the recipients' keys.
 * Input arrives in random splits, as the DATA decoder hands it on.
 */
class EncryptingTransformTest {
    private static final char[] PASS = "pass".toCharArray();
    private static final String ALICE = "alice@example.org";
    private static final String BOB = "bob@example.org";
    private static final String CAROL = "carol@example.net";
    private static final String DAVE = "dave@nokey.example";

    @TempDir
    static Path dir;
    static Keyring ring;
    static KeyInfo alice;
    static KeyInfo bob;
    static KeyInfo carol;
    static UnlockedKey aliceKey;
    static UnlockedKey bobKey;
    static UnlockedKey carolKey;

    @BeforeAll
    static void keys() throws Exception {
        ring = Keyring.open(dir.resolve("keys"));
        alice = ring.generate(ALICE, PASS, KeyVersion.V4);
        bob = ring.generate(BOB, PASS, KeyVersion.V4);
        carol = ring.generate(CAROL, PASS, KeyVersion.V4);
        aliceKey = ring.unlock(alice.fingerprint(), PassphraseSource.ofChars(PASS));
        bobKey = ring.unlock(bob.fingerprint(), PassphraseSource.ofChars(PASS));
        carolKey = ring.unlock(carol.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    @AfterAll
    static void close() {
        aliceKey.close();
        bobKey.close();
        carolKey.close();
    }

    private static EncryptingTransform transform(SendPolicy policy, boolean unlocked) {
        return new EncryptingTransform(() -> ring, KeyLookup.keyring(ring), a -> policy,
                a -> unlocked && a.equals(ALICE) ? Optional.of(aliceKey) : Optional.empty(), 64 * 1024);
    }

    private static SendPolicy policy(SendPolicy.Encrypt e, SendPolicy.Sign s, boolean autocrypt,
                                     SendPolicy.Rule... rules) {
        return new SendPolicy(e, s, List.of(rules), "[...]", autocrypt);
    }

    private static final SendPolicy DEFAULT = SendPolicy.DEFAULT;

    /** Runs one message through, split at random points, and returns what the sink received. */
    static byte[] run(MessageTransform t, String message, long seed, String... rcpts) throws SmtpException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> paths = java.util.Arrays.stream(rcpts).map(r -> "<" + r + ">").toList();
        MessageStream s = t.open(new Envelope(ALICE, "<" + ALICE + ">", paths), buf -> {
            byte[] b = new byte[buf.readableBytes()];
            buf.readBytes(b);
            buf.release();
            out.writeBytes(b);
        });
        byte[] in = message.getBytes(StandardCharsets.UTF_8);
        Random rnd = new Random(seed);
        int pos = 0;
        while (pos < in.length) {
            int n = Math.min(in.length - pos, 1 + rnd.nextInt(rnd.nextBoolean() ? 7 : 5000));
            ByteBuf chunk = Unpooled.wrappedBuffer(in, pos, n);
            s.write(chunk);
            assertThat(chunk.refCnt()).as("the stream releases what it gets").isZero();
            pos += n;
        }
        s.end();
        return out.toByteArray();
    }

    static DecryptedMessage decryptAs(UnlockedKey key, byte[] wire) throws Exception {
        return new PgpMimeDecryptor(new Decryptor(ring, List.of(key), OpenPgpLimits.DEFAULTS, null),
                new DetachedVerifier(ring), OpenPgpLimits.DEFAULTS, null).decrypt(new ByteArrayInputStream(wire));
    }

    static String text(DecryptedMessage m) throws Exception {
        return new String(m.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8);
    }

    private static String message(String to, String extraHeaders, String body) {
        return "From: Alice <" + ALICE + ">\r\nTo: " + to + "\r\n" + extraHeaders
                + "Subject: The secret plan\r\nDate: Sun, 29 Nov 2026 07:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body;
    }

    @Test
    void everyRecipientWithAKeyGetsItEncryptedToThemAndTheSenderAndSigned() throws Exception {
        String body = "Meet at noon, grüße.\r\n.leading dot\r\n" + "line of text\r\n".repeat(3000);
        for (long seed = 1; seed <= 3; seed++) {
            byte[] wire = run(transform(DEFAULT, true), message(BOB + ", " + CAROL, "", body), seed, BOB, CAROL);
            String outer = new String(wire, StandardCharsets.UTF_8);
            assertThat(outer).contains("Subject: [...]\r\n").doesNotContain("secret plan").doesNotContain("noon")
                    .contains("Content-Type: multipart/encrypted;").contains("To: " + BOB + ", " + CAROL + "\r\n")
                    .contains("Message-ID: <m1@example.org>\r\n").endsWith("--\r\n");
            assertThat(outer.lines()).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(998));
            for (UnlockedKey reader : List.of(bobKey, carolKey, aliceKey)) {
                try (DecryptedMessage m = decryptAs(reader, wire)) {
                    assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                    assertThat(m.subject()).contains("The secret plan");
                    assertThat(m.signatures()).singleElement().satisfies(s -> {
                        assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID);
                        assertThat(s.fromMatches()).isTrue();
                    });
                    String t = text(m);
                    assertThat(t).contains("Subject: The secret plan\r\n").endsWith("\r\n\r\n" + body);
                }
            }
        }
    }

    @Test
    void theEncryptedMessageCarriesTheSendersKeyInAnAutocryptHeader() throws Exception {
        byte[] wire = run(transform(DEFAULT, true), message(BOB, "", "hi\r\n"), 7, BOB);
        String outer = new String(wire, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("Autocrypt: addr=" + ALICE + "; keydata=((?:\r\n [A-Za-z0-9+/=]+)+)\r\n")
                .matcher(outer);
        assertThat(m.find()).as(outer).isTrue();
        byte[] cert = Base64.getDecoder().decode(m.group(1).replace("\r\n ", ""));
        Keyring other = Keyring.open(dir.resolve("other-" + System.nanoTime()));
        assertThat(other.importKeys(new ByteArrayInputStream(cert))).singleElement()
                .satisfies(k -> assertThat(k.fingerprint()).isEqualTo(alice.fingerprint()));
        byte[] off = run(transform(policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.WHEN_ENCRYPTING, false),
                true), message(BOB, "", "hi\r\n"), 7, BOB);
        assertThat(new String(off, StandardCharsets.UTF_8)).doesNotContain("Autocrypt:");
    }

    @Test
    void opportunisticSendsMailToARecipientWithoutKeyAsItCameByteForByte() throws Exception {
        String msg = message(BOB + ", " + DAVE, "X-Odd:  spacing kept \r\n", "plain text\r\n..\r\n");
        SendPolicy noAutocrypt = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.WHEN_ENCRYPTING, false);
        assertThat(run(transform(noAutocrypt, true), msg, 3, BOB, DAVE)).isEqualTo(msg.getBytes(StandardCharsets.UTF_8));
        // with Autocrypt on, the only change is the added header
        String withHeader = new String(run(transform(DEFAULT, true), msg, 3, BOB, DAVE), StandardCharsets.UTF_8);
        assertThat(withHeader).startsWith("Autocrypt: addr=" + ALICE + "; keydata=");
        assertThat(withHeader.replaceFirst("Autocrypt:[^\r]*(\r\n [^\r]*)*\r\n", "")).isEqualTo(msg);
    }

    @Test
    void requiredRefusesBeforeDataNamingTheRecipientWithoutAKey() {
        SendPolicy required = policy(SendPolicy.Encrypt.REQUIRED, SendPolicy.Sign.WHEN_ENCRYPTING, true);
        assertThatThrownBy(() -> run(transform(required, true), message(DAVE, "", "x\r\n"), 1, BOB, DAVE))
                .isInstanceOfSatisfying(SmtpException.class, e -> {
                    assertThat(e.reply().code()).isEqualTo(550);
                    assertThat(e.reply().lines().get(0)).contains("5.7.1").contains(DAVE).doesNotContain(BOB);
                });
    }

    @Test
    void rulesByAddressAndDomainOverrideTheDefault() throws Exception {
        SendPolicy rules = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.WHEN_ENCRYPTING, false,
                new SendPolicy.Rule("nokey.example", SendPolicy.Encrypt.REQUIRED),
                new SendPolicy.Rule(CAROL, SendPolicy.Encrypt.NEVER));
        assertThat(rules.forRecipient("Dave@NOKEY.example")).isEqualTo(SendPolicy.Encrypt.REQUIRED);
        assertThatThrownBy(() -> run(transform(rules, true), message(DAVE, "", "x\r\n"), 1, DAVE))
                .isInstanceOf(SmtpException.class);
        String msg = message(CAROL, "", "for carol in the clear\r\n");
        assertThat(run(transform(rules, true), msg, 1, CAROL)).isEqualTo(msg.getBytes(StandardCharsets.UTF_8));
        SendPolicy conflict = policy(SendPolicy.Encrypt.REQUIRED, SendPolicy.Sign.WHEN_ENCRYPTING, false,
                new SendPolicy.Rule(CAROL, SendPolicy.Encrypt.NEVER));
        assertThatThrownBy(() -> run(transform(conflict, true), msg, 1, BOB, CAROL))
                .isInstanceOfSatisfying(SmtpException.class, e -> assertThat(e.reply().code()).isEqualTo(550));
    }

    @Test
    void aLockedKeyIsATemporaryFailureNotAnUnsignedMessage() {
        assertThatThrownBy(() -> run(transform(DEFAULT, false), message(BOB, "", "x\r\n"), 1, BOB))
                .isInstanceOfSatisfying(SmtpException.class, e -> {
                    assertThat(e.reply().code()).isEqualTo(451);
                    assertThat(e.reply().lines().get(0)).contains("mailproxy keys unlock " + ALICE);
                });
    }

    @Test
    void anAccountWithoutAnyKeyStillEncryptsButCannotSign() throws Exception {
        // alice's certificate only (as on a machine where her secret key was never imported), and bob's
        Keyring certsOnly = Keyring.open(dir.resolve("certs-only-" + System.nanoTime()));
        for (KeyInfo k : List.of(alice, bob)) {
            ByteArrayOutputStream cert = new ByteArrayOutputStream();
            ring.export(k.fingerprint(), false, false, cert);
            certsOnly.importKeys(new ByteArrayInputStream(cert.toByteArray()));
        }
        EncryptingTransform t = new EncryptingTransform(() -> certsOnly, KeyLookup.keyring(certsOnly), a -> DEFAULT,
                a -> Optional.empty(), 64 * 1024);
        byte[] wire = run(t, message(BOB, "", "unsigned but sealed\r\n"), 3, BOB);
        try (DecryptedMessage m = decryptAs(bobKey, wire)) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            assertThat(m.signatures()).isEmpty();
            assertThat(text(m)).endsWith("unsigned but sealed\r\n");
        }
        SendPolicy always = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.ALWAYS, false);
        EncryptingTransform signing = new EncryptingTransform(() -> certsOnly, KeyLookup.keyring(certsOnly),
                a -> always, a -> Optional.empty(), 64 * 1024);
        assertThatThrownBy(() -> run(signing, message(BOB, "", "x\r\n"), 3, BOB))
                .isInstanceOfSatisfying(SmtpException.class, e -> {
                    assertThat(e.reply().code()).isEqualTo(554);
                    assertThat(e.reply().lines().get(0)).contains("has no OpenPGP key");
                });
    }

    @Test
    void aMessageTheClientEncryptedOrSignedPassesUntouched() throws Exception {
        String encrypted = "From: " + ALICE + "\r\nTo: " + BOB + "\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nAAAA\r\n"
                + "-----END PGP MESSAGE-----\r\n--b--\r\n";
        assertThat(run(transform(DEFAULT, true), encrypted, 5, BOB)).isEqualTo(encrypted.getBytes(StandardCharsets.UTF_8));
        String signed = encrypted.replace("multipart/encrypted; protocol=\"application/pgp-encrypted\"",
                "multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"");
        assertThat(run(transform(DEFAULT, true), signed, 5, DAVE)).isEqualTo(signed.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theBccFieldNeverGoesOutEncryptedOrNot() throws Exception {
        SendPolicy noAutocrypt = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.WHEN_ENCRYPTING, false);
        String plain = message(DAVE, "Bcc: secret-watcher@example.org\r\n", "x\r\n");
        String out = new String(run(transform(noAutocrypt, true), plain, 2, DAVE), StandardCharsets.UTF_8);
        assertThat(out).doesNotContainIgnoringCase("bcc").doesNotContain("secret-watcher")
                .isEqualTo(plain.replace("Bcc: secret-watcher@example.org\r\n", ""));
        byte[] wire = run(transform(noAutocrypt, true), message(BOB, "Bcc: " + CAROL + "\r\n", "y\r\n"), 2, BOB, CAROL);
        assertThat(new String(wire, StandardCharsets.UTF_8)).doesNotContainIgnoringCase("bcc:");
        try (DecryptedMessage m = decryptAs(bobKey, wire)) {
            assertThat(text(m)).doesNotContainIgnoringCase("bcc:").doesNotContain(CAROL);
        }
    }

    @Test
    void signAlwaysSignsMailThatCannotBeEncrypted() throws Exception {
        SendPolicy always = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.ALWAYS, false);
        String body = "signed but readable\r\n" + "more\r\n".repeat(2000);
        byte[] wire = run(transform(always, true), message(DAVE, "", body), 9, DAVE);
        String out = new String(wire, StandardCharsets.UTF_8);
        Matcher b = Pattern.compile("multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\";"
                + "\r\n boundary=\"([^\"]+)\"").matcher(out);
        assertThat(b.find()).as(out).isTrue();
        String delim = "--" + b.group(1);
        int first = out.indexOf(delim + "\r\n") + delim.length() + 2;
        int second = out.indexOf("\r\n" + delim + "\r\n", first);
        String signedPart = out.substring(first, second);
        assertThat(signedPart).isEqualTo("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + body.substring(0, body.length() - 2));
        String sig = out.substring(out.indexOf("-----BEGIN PGP SIGNATURE-----"),
                out.indexOf("-----END PGP SIGNATURE-----") + 27);
        SignatureResult r = new DetachedVerifier(ring).verify(sig.getBytes(StandardCharsets.US_ASCII),
                new ByteArrayInputStream(signedPart.getBytes(StandardCharsets.UTF_8)));
        assertThat(r.status()).isEqualTo(SignatureResult.Status.VALID);
        SignatureResult tampered = new DetachedVerifier(ring).verify(sig.getBytes(StandardCharsets.US_ASCII),
                new ByteArrayInputStream((signedPart + " ").getBytes(StandardCharsets.UTF_8)));
        assertThat(tampered.status()).isNotEqualTo(SignatureResult.Status.VALID);
        assertThat(out).contains("Subject: The secret plan\r\n").endsWith(delim + "--\r\n");
    }

    @Test
    void signedEightBitTextIsSignedAsSevenBitQuotedPrintable() throws Exception {
        SendPolicy always = policy(SendPolicy.Encrypt.OPPORTUNISTIC, SendPolicy.Sign.ALWAYS, false);
        String body = "Grüße aus Köln = viele Grüße \r\nFrom the team\r\n";
        String out = new String(run(transform(always, true), message(DAVE, "Content-Transfer-Encoding: 8bit\r\n",
                body), 4, DAVE), StandardCharsets.UTF_8);
        String delim = "--" + out.substring(out.indexOf("boundary=\"") + 10, out.indexOf('"', out.indexOf("boundary=\"") + 10));
        int first = out.indexOf(delim + "\r\n") + delim.length() + 2;
        String signedPart = out.substring(first, out.indexOf("\r\n" + delim + "\r\n", first));
        assertThat(signedPart).startsWith("Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n\r\n").doesNotContain("8bit");
        assertThat(signedPart.chars()).allMatch(c -> c < 128);
        String encoded = signedPart.substring(signedPart.indexOf("\r\n\r\n") + 4) + "\r\n";
        assertThat(new String(new org.apache.james.mime4j.codec.QuotedPrintableInputStream(
                new ByteArrayInputStream(encoded.getBytes(StandardCharsets.US_ASCII))).readAllBytes(),
                StandardCharsets.UTF_8)).isEqualTo(body);
        String sig = out.substring(out.indexOf("-----BEGIN PGP SIGNATURE-----"),
                out.indexOf("-----END PGP SIGNATURE-----") + 27);
        assertThat(new DetachedVerifier(ring).verify(sig.getBytes(StandardCharsets.US_ASCII),
                new ByteArrayInputStream(signedPart.getBytes(StandardCharsets.US_ASCII))).status())
                .isEqualTo(SignatureResult.Status.VALID);
    }

    @Test
    void anOversizedHeaderSectionIsRefused() {
        String huge = message(BOB, ("X-Filler: " + "f".repeat(900) + "\r\n").repeat(80), "x\r\n");
        assertThatThrownBy(() -> run(transform(DEFAULT, true), huge, 4, BOB))
                .isInstanceOfSatisfying(SmtpException.class, e -> assertThat(e.reply().code()).isEqualTo(552));
    }

    @Test
    void aMessageWithoutBodyIsEncryptedToo() throws Exception {
        String headerOnly = "From: " + ALICE + "\r\nTo: " + BOB + "\r\nSubject: only a subject\r\n";
        byte[] wire = run(transform(DEFAULT, true), headerOnly, 4, BOB);
        try (DecryptedMessage m = decryptAs(bobKey, wire)) {
            assertThat(m.subject()).contains("only a subject");
        }
    }
}
