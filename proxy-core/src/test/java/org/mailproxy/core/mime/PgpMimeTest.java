package org.mailproxy.core.mime;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PgpMimeTest {
    static final char[] PASS = "pass".toCharArray();
    static Path dir;
    static Keyring aliceRing;
    static Keyring bobRing;
    static KeyInfo alice;
    static KeyInfo bob;
    static UnlockedKey aliceKey;
    static UnlockedKey bobKey;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("pgpmime");
        aliceRing = Keyring.open(dir.resolve("alice"));
        bobRing = Keyring.open(dir.resolve("bob"));
        alice = aliceRing.generate("alice@example.org", PASS, KeyVersion.V4);
        bob = bobRing.generate("bob@example.org", PASS, KeyVersion.V4);
        copyCert(aliceRing, bobRing, alice);
        copyCert(bobRing, aliceRing, bob);
        aliceKey = aliceRing.unlock(alice.fingerprint(), PassphraseSource.ofChars(PASS));
        bobKey = bobRing.unlock(bob.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    static void copyCert(Keyring from, Keyring to, KeyInfo key) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        from.export(key.fingerprint(), false, true, out);
        to.importKeys(new ByteArrayInputStream(out.toByteArray()));
    }

    @AfterAll
    static void tearDown() throws Exception {
        aliceKey.close();
        bobKey.close();
        try (var w = Files.walk(dir)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static List<HeaderField> headers(String from, String subject) {
        return List.of(
                new HeaderField("From", " Alice <" + from + ">"),
                new HeaderField("To", " bob@example.org"),
                new HeaderField("Subject", " " + subject),
                new HeaderField("Date", " Sun, 29 Nov 2026 04:00:00 +0000"),
                new HeaderField("Message-ID", " <1@example.org>"),
                new HeaderField("MIME-Version", " 1.0"),
                new HeaderField("Content-Type", " text/plain; charset=utf-8"),
                new HeaderField("Content-Transfer-Encoding", " 8bit"));
    }

    static byte[] send(List<HeaderField> headers, String body, boolean sign, PgpMimeEncryptor.Options options)
            throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        try (OutputStream o = new PgpMimeEncryptor(new Encryptor(aliceRing)).open(wire, headers,
                List.of(bob.fingerprint(), alice.fingerprint()), sign ? aliceKey : null, options)) {
            o.write(body.getBytes(StandardCharsets.UTF_8));
        }
        return wire.toByteArray();
    }

    static DecryptedMessage receive(byte[] message) throws Exception {
        return new PgpMimeDecryptor(new Decryptor(bobRing, List.of(bobKey), OpenPgpLimits.DEFAULTS, null),
                OpenPgpLimits.DEFAULTS, null).decrypt(new ByteArrayInputStream(message));
    }

    static String text(DecryptedMessage m) throws Exception {
        return new String(m.message().orElseThrow().toByteArray(), StandardCharsets.UTF_8);
    }

    @Test
    void encryptsWithHeaderProtectionAndDecryptsBack() throws Exception {
        byte[] wire = send(headers("alice@example.org", "Secret plans"), "Hello bob, grüße\r\n", true,
                PgpMimeEncryptor.Options.DEFAULTS);
        String outer = new String(wire, StandardCharsets.UTF_8);
        assertThat(outer).contains("Subject: [...]\r\n").doesNotContain("Secret plans")
                .contains("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"")
                .contains("Version: 1\r\n").contains("-----BEGIN PGP MESSAGE-----\r\n");
        assertThat(outer.replace("\r\n", "")).doesNotContain("\n").doesNotContain("\r");
        try (DecryptedMessage m = receive(wire)) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            assertThat(m.format()).isEqualTo(DecryptedMessage.Format.PGP_MIME);
            assertThat(m.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.RFC9788);
            assertThat(m.subject()).contains("Secret plans");
            assertThat(m.signatures()).singleElement().satisfies(s -> {
                assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID);
                assertThat(s.fromMatches()).isTrue();
            });
            String t = text(m);
            assertThat(t).contains("Subject: Secret plans\r\n").doesNotContain("[...]").doesNotContain("HP-Outer")
                    .contains(PgpMimeDecryptor.STATUS_HEADER + ": decrypted; integrity=ok; signature=valid; signer="
                            + alice.fingerprint())
                    .endsWith("\r\n\r\nHello bob, grüße\r\n");
            assertThat(t).containsOnlyOnce("Subject:").containsOnlyOnce("MIME-Version:");
        }
    }

    @Test
    void withoutHeaderProtectionTheOuterHeaderStays() throws Exception {
        byte[] wire = send(headers("alice@example.org", "Visible"), "x\r\n", false, new PgpMimeEncryptor.Options(false));
        assertThat(new String(wire, StandardCharsets.UTF_8)).contains("Subject: Visible");
        try (DecryptedMessage m = receive(wire)) {
            assertThat(m.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.NONE);
            assertThat(text(m)).contains("Subject: Visible\r\n").contains("signature=none")
                    .contains("Content-Type: text/plain; charset=utf-8\r\n");
        }
    }

    @Test
    void forgedStatusHeaderIsRemovedAndSignerMustMatchFrom() throws Exception {
        List<HeaderField> h = new java.util.ArrayList<>(headers("mallory@example.org", "Pay now"));
        h.add(new HeaderField(PgpMimeDecryptor.STATUS_HEADER, " decrypted; integrity=ok; signature=valid"));
        byte[] wire = send(h, "pay\r\n", true, new PgpMimeEncryptor.Options(false));
        try (DecryptedMessage m = receive(wire)) {
            String t = text(m);
            assertThat(t).containsOnlyOnce(PgpMimeDecryptor.STATUS_HEADER)
                    .contains("signature=valid-other-signer").doesNotContain("signature=valid;");
            assertThat(m.signatures().get(0).fromMatches()).isFalse();
        }
    }

    @Test
    void messageForSomeoneElseIsNotForUs() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        try (OutputStream o = new PgpMimeEncryptor(new Encryptor(aliceRing)).open(wire,
                headers("alice@example.org", "s"), List.of(alice.fingerprint()), null,
                PgpMimeEncryptor.Options.DEFAULTS)) {
            o.write("x".getBytes());
        }
        try (DecryptedMessage m = receive(wire.toByteArray())) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.NOT_FOR_US);
            assertThat(m.message()).isEmpty();
        }
    }

    static String armored(byte[] plain, boolean sign) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream o = new Encryptor(aliceRing).open(out, List.of(bob.fingerprint()), sign ? aliceKey : null,
                true)) {
            o.write(plain);
        }
        return out.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void inlinePgpWithCharsetDecrypts() throws Exception {
        Charset latin1 = StandardCharsets.ISO_8859_1;
        byte[] plain = "Grüße aus Köln\r\n".getBytes(latin1);
        String msg = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: inline\r\n"
                + "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\r\n"
                + armored(plain, true).replace("\n", "\r\n") + "\r\n";
        try (DecryptedMessage m = receive(msg.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            assertThat(m.format()).isEqualTo(DecryptedMessage.Format.INLINE);
            String t = text(m);
            assertThat(t).contains("Content-Type: text/plain; charset=ISO-8859-1\r\n")
                    .contains("Content-Transfer-Encoding: base64\r\n").contains("signature=valid;");
            String body = t.substring(t.indexOf("\r\n\r\n") + 4);
            assertThat(Base64.getMimeDecoder().decode(body.trim())).isEqualTo(plain);
        }
    }

    @Test
    void inlineBlockWithOtherTextAroundIsNotDecrypted() throws Exception {
        String msg = "From: alice@example.org\r\nContent-Type: text/plain\r\n\r\nClick here!\r\n"
                + armored("x".getBytes(), false).replace("\n", "\r\n");
        try (DecryptedMessage m = receive(msg.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.NOT_ENCRYPTED);
        }
    }

    @Test
    void encryptedPartNextToAttackerPartsIsOnlyFlagged() throws Exception {
        String msg = "From: eve@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                + "--b\r\nContent-Type: text/html\r\n\r\n<img src=\"http://eve.example/\r\n"
                + "--b\r\nContent-Type: text/plain\r\n\r\n" + armored("x".getBytes(), false).replace("\n", "\r\n")
                + "--b--\r\n";
        try (DecryptedMessage m = receive(msg.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.PARTIALLY_ENCRYPTED);
            assertThat(m.message()).isEmpty();
        }
    }

    @Test
    void plainMailPassesThrough() throws Exception {
        try (DecryptedMessage m = receive("From: a@b\r\nSubject: hi\r\n\r\nhello\r\n".getBytes())) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.NOT_ENCRYPTED);
        }
    }

    @Test
    void malformedPgpMimeAndTamperedCiphertextFailTheSameWay() throws Exception {
        byte[] wire = send(headers("alice@example.org", "s"), "body\r\n", false, PgpMimeEncryptor.Options.DEFAULTS);
        String s = new String(wire, StandardCharsets.US_ASCII);
        String boundary = s.substring(s.indexOf("boundary=\"") + 10, s.indexOf('"', s.indexOf("boundary=\"") + 10));
        String threeParts = s.replace("--" + boundary + "--", "--" + boundary
                + "\r\nContent-Type: text/html\r\n\r\n<b>extra</b>\r\n--" + boundary + "--");
        assertThatThrownBy(() -> receive(threeParts.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(DecryptionFailedException.class).hasMessage(DecryptionFailedException.MESSAGE);
        int mid = s.indexOf("-----BEGIN PGP MESSAGE-----") + 120;
        char c = s.charAt(mid);
        String tampered = s.substring(0, mid) + (c == 'A' ? 'B' : 'A') + s.substring(mid + 1);
        assertThatThrownBy(() -> receive(tampered.getBytes(StandardCharsets.US_ASCII)))
                .isInstanceOf(DecryptionFailedException.class).hasMessage(DecryptionFailedException.MESSAGE);
    }

    /** The structure Thunderbird sends: protected-headers="v1" on the inner root, outer Subject "...". */
    static String thunderbirdInner() {
        return "Content-Type: multipart/mixed; boundary=\"------------tbInner0123\";\r\n"
                + " protected-headers=\"v1\"\r\n"
                + "From: Alice <alice@example.org>\r\n"
                + "To: bob@example.org\r\n"
                + "Message-ID: <tb-1@example.org>\r\n"
                + "Subject: Quarterly numbers\r\n"
                + "\r\n"
                + "--------------tbInner0123\r\n"
                + "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
                + "Content-Transfer-Encoding: 7bit\r\n"
                + "\r\n"
                + "See attached.\r\n"
                + "\r\n"
                + "--------------tbInner0123--\r\n";
    }

    static String thunderbirdOuter(String armoredPayload) {
        return "Message-ID: <tb-1@example.org>\r\n"
                + "Date: Sun, 29 Nov 2026 04:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "User-Agent: Mozilla Thunderbird\r\n"
                + "From: Alice <alice@example.org>\r\n"
                + "To: bob@example.org\r\n"
                + "Subject: ...\r\n"
                + "Content-Type: multipart/encrypted;\r\n"
                + " protocol=\"application/pgp-encrypted\";\r\n"
                + " boundary=\"------------tbOuter4567\"\r\n"
                + "\r\n"
                + "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
                + "--------------tbOuter4567\r\n"
                + "Content-Type: application/pgp-encrypted\r\n"
                + "Content-Description: PGP/MIME version identification\r\n"
                + "\r\n"
                + "Version: 1\r\n"
                + "\r\n"
                + "--------------tbOuter4567\r\n"
                + "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                + "Content-Description: OpenPGP encrypted message\r\n"
                + "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
                + "\r\n"
                + armoredPayload.replace("\r\n", "\n").replace("\n", "\r\n")
                + "\r\n"
                + "--------------tbOuter4567--\r\n";
    }

    @Test
    void thunderbirdProtectedHeadersV1GiveTheRealSubject() throws Exception {
        String wire = thunderbirdOuter(armored(thunderbirdInner().getBytes(StandardCharsets.US_ASCII), true));
        try (DecryptedMessage m = receive(wire.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            assertThat(m.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.PROTECTED_HEADERS_V1);
            assertThat(m.subject()).contains("Quarterly numbers");
            String t = text(m);
            assertThat(t).contains("Subject: Quarterly numbers\r\n").doesNotContain("Subject: ...")
                    .contains("User-Agent: Mozilla Thunderbird\r\n")
                    .endsWith("--------------tbInner0123--\r\n");
        }
    }

    @Test
    void enigmailsLegacyDisplayPartIsRemovedOnceTheHeadersArePromoted() throws Exception {
        String legacyPart = "--------------tbInner0123\r\n"
                + "Content-Type: text/rfc822-headers; protected-headers=\"v1\"\r\n"
                + "Content-Disposition: inline\r\n\r\n"
                + "Subject: Quarterly numbers\r\n\r\n";
        String inner = thunderbirdInner();
        int firstPart = inner.indexOf("--------------tbInner0123\r\n");
        String withLegacy = inner.substring(0, firstPart) + legacyPart + inner.substring(firstPart);
        String wire = thunderbirdOuter(armored(withLegacy.getBytes(StandardCharsets.US_ASCII), true));
        String expectedBody = inner.substring(inner.indexOf("\r\n\r\n") + 4);
        try (DecryptedMessage m = receive(wire.getBytes(StandardCharsets.US_ASCII))) {
            String t = text(m);
            assertThat(t).contains("Subject: Quarterly numbers\r\n").doesNotContain("text/rfc822-headers");
            assertThat(t.substring(t.indexOf("\r\n\r\n") + 4)).isEqualTo(expectedBody);
        }
        // a first part of another type stays, and so does everything without header protection
        String plainFirst = inner.substring(0, firstPart) + legacyPart.replace("text/rfc822-headers", "text/plain")
                + inner.substring(firstPart);
        try (DecryptedMessage m = receive(thunderbirdOuter(armored(plainFirst.getBytes(StandardCharsets.US_ASCII),
                true)).getBytes(StandardCharsets.US_ASCII))) {
            assertThat(text(m)).contains("Content-Type: text/plain; protected-headers=\"v1\"");
        }
    }

    @Test
    void rfc9788sLegacyDisplayElementIsRemovedFromAPlainTextBody() throws Exception {
        String inner = "Content-Type: text/plain; charset=utf-8; hp=\"cipher\"; hp-legacy-display=\"1\"\r\n"
                + "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Quarterly numbers\r\n\r\n"
                + "Subject: Quarterly numbers\r\n\r\nSee attached.\r\n";
        try (DecryptedMessage m = receive(thunderbirdOuter(armored(inner.getBytes(StandardCharsets.US_ASCII), true))
                .getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.RFC9788);
            String t = text(m);
            assertThat(t.substring(t.indexOf("\r\n\r\n") + 4)).isEqualTo("See attached.\r\n");
        }
        // not marked, or quoted-printable: the body as it came
        for (String type : new String[]{"Content-Type: text/plain; charset=utf-8; hp=\"cipher\"\r\n",
                "Content-Type: text/plain; hp=\"cipher\"; hp-legacy-display=\"1\"\r\n"
                        + "Content-Transfer-Encoding: quoted-printable\r\n"}) {
            String other = type + inner.substring(inner.indexOf("\r\n") + 2);
            try (DecryptedMessage m = receive(thunderbirdOuter(armored(other.getBytes(StandardCharsets.US_ASCII), true))
                    .getBytes(StandardCharsets.US_ASCII))) {
                String t = text(m);
                assertThat(t.substring(t.indexOf("\r\n\r\n") + 4))
                        .isEqualTo("Subject: Quarterly numbers\r\n\r\nSee attached.\r\n");
            }
        }
    }

    static String signedInner(String from, String text) throws Exception {
        String part1 = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + text;
        String sig = new String(org.mailproxy.core.crypto.openpgp.DetachedSigner.sign(aliceKey,
                new ByteArrayInputStream(part1.getBytes(StandardCharsets.UTF_8))), StandardCharsets.US_ASCII)
                .replace("\r\n", "\n").replace("\n", "\r\n");
        return "Content-Type: multipart/signed; micalg=pgp-sha256;\r\n"
                + " protocol=\"application/pgp-signature\"; boundary=\"sig-b\"\r\n"
                + "From: " + from + "\r\n"
                + "Subject: signed inside\r\n\r\n"
                + "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
                + "--sig-b\r\n" + part1 + "\r\n"
                + "--sig-b\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n"
                + sig + "\r\n--sig-b--\r\n";
    }

    static DecryptedMessage receiveVerifying(byte[] message) throws Exception {
        return new PgpMimeDecryptor(new Decryptor(bobRing, List.of(bobKey), OpenPgpLimits.DEFAULTS, null),
                new org.mailproxy.core.crypto.openpgp.DetachedVerifier(bobRing), OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(message));
    }

    @Test
    void multipartSignedInsideTheEncryptionIsVerifiedAndKeptByteExact() throws Exception {
        String inner = signedInner("Alice <alice@example.org>", "Signed text\r\nsecond line\r\n");
        String wire = thunderbirdOuter(armored(inner.getBytes(StandardCharsets.UTF_8), false));
        try (DecryptedMessage m = receiveVerifying(wire.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.signatures()).singleElement().satisfies(s -> {
                assertThat(s.status()).isEqualTo(SignatureResult.Status.VALID);
                assertThat(s.fromMatches()).isTrue();
            });
            String t = text(m);
            assertThat(t).contains("signature=valid;");
            assertThat(t.substring(t.indexOf("This is an OpenPGP/MIME signed")))
                    .isEqualTo(inner.substring(inner.indexOf("This is an OpenPGP/MIME signed")));
        }
    }

    @Test
    void alteredSignedPartIsBad() throws Exception {
        String inner = signedInner("Alice <alice@example.org>", "Pay 10 EUR\r\n").replace("Pay 10 EUR", "Pay 99 EUR");
        String wire = thunderbirdOuter(armored(inner.getBytes(StandardCharsets.UTF_8), false));
        try (DecryptedMessage m = receiveVerifying(wire.getBytes(StandardCharsets.US_ASCII))) {
            assertThat(m.signatures()).singleElement().extracting(SignatureResult::status)
                    .isEqualTo(SignatureResult.Status.BAD);
            assertThat(text(m)).contains("signature=bad");
        }
    }
}
