package org.mailproxy.imap.append;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.spool.SpoolOverflowException;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a draft saved through the proxy becomes upstream: ciphertext without any of the secret words, which our
 * decryptor and gpg both turn back into the original header fields and body.
 */
class DraftEncryptorTest {
    private static final String CANARY_SUBJECT = "canary-subject-7f3a Grüße";
    private static final String CANARY_BODY = "canary-body-91c2";
    private static final String CANARY_BCC = "hidden-canary@example.net";

    static Path dir;
    static DraftKeys keys;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("draftenc");
        keys = new DraftKeys(dir);
    }

    @AfterAll
    static void tearDown() throws Exception {
        keys.close();
        try (Stream<Path> w = Files.walk(dir)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** A Thunderbird-like draft: 8-bit header and body, a Bcc, a draft-info field. */
    static final String HEADER = ""
            + "From: Alice <alice@example.org>\r\n"
            + "To: Bob <bob@example.org>\r\n"
            + "Cc: carol@example.org\r\n"
            + "Bcc: " + CANARY_BCC + "\r\n"
            + "Subject: " + CANARY_SUBJECT + "\r\n"
            + "Date: Sun, 29 Nov 2026 09:00:00 +0000\r\n"
            + "Message-ID: <draft-1@example.org>\r\n"
            + "In-Reply-To: <orig@example.org>\r\n"
            + "References: <root@example.org>\r\n"
            + " <orig@example.org>\r\n"
            + "X-Mozilla-Draft-Info: internal/draft; vcard=0; receipt=0\r\n"
            + "User-Agent: Mozilla Thunderbird\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n";
    static final String BODY = "Hello Bob, " + CANARY_BODY + "\r\nsüß ☃\r\n";

    private DraftEncryptor.Result encrypt(byte[] message) throws Exception {
        return keys.encryptor(1 << 16, 1L << 30, dir).encrypt(new ByteArrayInputStream(message),
                keys.alice.fingerprint(), keys.aliceKey, "[...]");
    }

    private static byte[] bytes(DraftEncryptor.Result r) throws IOException {
        return r.message().toByteArray();
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void storedDraftHasNoCanaryAndDecryptsToTheOriginalFieldsAndBody() throws Exception {
        byte[] original = (HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8);
        try (DraftEncryptor.Result r = encrypt(original)) {
            assertThat(r.outcome()).isEqualTo(DraftEncryptor.Outcome.ENCRYPTED);
            byte[] stored = bytes(r);
            assertThat(r.size()).isEqualTo(stored.length);
            String s = text(stored);
            assertThat(s).doesNotContain("canary").doesNotContain("Grüße").doesNotContain("X-Mozilla-Draft-Info")
                    .doesNotContain("Bcc").doesNotContain("User-Agent");
            String outer = s.substring(0, s.indexOf("\r\n\r\n") + 2);
            assertThat(outer).startsWith("From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n"
                            + "Cc: carol@example.org\r\nDate: Sun, 29 Nov 2026 09:00:00 +0000\r\n"
                            + "Message-ID: <draft-1@example.org>\r\nIn-Reply-To: <orig@example.org>\r\n"
                            + "References: <root@example.org>\r\n <orig@example.org>\r\nSubject: [...]\r\n"
                            + "MIME-Version: 1.0\r\n")
                    .contains("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"");
            assertThat(s.replace("\r\n", "")).as("CRLF only").doesNotContain("\n").doesNotContain("\r");
            assertThat(s).contains("-----BEGIN PGP MESSAGE-----\r\n").endsWith("--\r\n");

            try (DecryptedMessage d = keys.decrypt(new ByteArrayInputStream(stored), dir)) {
                assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                assertThat(d.format()).isEqualTo(DecryptedMessage.Format.PGP_MIME);
                assertThat(d.headerProtection()).isEqualTo(DecryptedMessage.HeaderProtection.RFC9788);
                assertThat(d.subject()).contains(CANARY_SUBJECT);
                assertThat(d.signatures()).singleElement().satisfies(sig -> {
                    assertThat(sig.status()).isEqualTo(SignatureResult.Status.VALID);
                    assertThat(sig.signerFingerprint()).contains(keys.alice.fingerprint());
                });
                String back = text(d.message().orElseThrow().toByteArray());
                for (String line : HEADER.split("\r\n(?! )")) {
                    if (!line.startsWith("Content-Type") && !line.startsWith("MIME-Version")) {
                        assertThat(back).contains(line + "\r\n");
                    }
                }
                assertThat(back).contains("Content-Type: text/plain; charset=UTF-8; format=flowed")
                        .doesNotContain("HP-Outer").doesNotContain("[...]")
                        .contains(PgpMimeDecryptor.STATUS_HEADER + ": decrypted")
                        .endsWith("\r\n\r\n" + BODY);
            }
        }
    }

    @Test
    void theInnerHeaderRecordsWhatWasLeftOutside() throws Exception {
        try (DraftEncryptor.Result r = encrypt((HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8))) {
            String inner = innerPlaintext(bytes(r));
            String head = inner.substring(0, inner.indexOf("\r\n\r\n") + 2);
            assertThat(head).startsWith("Content-Type: text/plain; charset=UTF-8; format=flowed;\r\n"
                            + " hp=\"cipher\"; protected-headers=\"v1\"\r\nContent-Transfer-Encoding: 8bit\r\n")
                    .contains("Bcc: " + CANARY_BCC + "\r\n")
                    .contains("HP-Outer: From: Alice <alice@example.org>\r\n")
                    .contains("HP-Outer: References: <root@example.org>\r\n <orig@example.org>\r\n")
                    .contains("HP-Outer: Subject: [...]\r\n")
                    .doesNotContain("HP-Outer: Bcc").doesNotContain("HP-Outer: X-Mozilla")
                    .doesNotContain("MIME-Version");
            assertThat(inner.substring(head.length() + 2)).isEqualTo(BODY);
        }
    }

    /** Our own decryption of the armored part, without the MIME layer, to see the inner entity as written. */
    private static String innerPlaintext(byte[] stored) throws Exception {
        String s = text(stored);
        String armor = s.substring(s.indexOf("-----BEGIN PGP MESSAGE-----"),
                s.indexOf("-----END PGP MESSAGE-----") + "-----END PGP MESSAGE-----".length());
        try (var result = new org.mailproxy.core.crypto.openpgp.Decryptor(keys.keyring, List.of(keys.aliceKey),
                org.mailproxy.core.crypto.openpgp.OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(armor.getBytes(StandardCharsets.US_ASCII)));
             InputStream in = result.plaintext().orElseThrow().openStream()) {
            return text(in.readAllBytes());
        }
    }

    @Test
    void multipartWithBinaryOctetsBareLfAndNoSubjectRoundTrips() throws Exception {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.writeBytes(("From: alice@example.org\nTo: bob@example.org\nMIME-Version: 1.0\n"
                + "Content-Type: multipart/mixed;\n boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n"
                + CANARY_BODY + "\n--b1\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n")
                .getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < 256; i++) {
            m.write(i);
        }
        m.writeBytes("\n--b1--\n".getBytes(StandardCharsets.US_ASCII));
        byte[] original = m.toByteArray();
        try (DraftEncryptor.Result r = encrypt(original)) {
            String s = text(bytes(r));
            assertThat(s).doesNotContain(CANARY_BODY).doesNotContain("Subject");
            assertThat(s.substring(0, s.indexOf("\r\n\r\n"))).startsWith("From: alice@example.org\r\n"
                    + "To: bob@example.org\r\nMIME-Version: 1.0\r\n");
            String inner = innerPlaintext(bytes(r));
            assertThat(inner).startsWith("Content-Type: multipart/mixed;\n boundary=\"b1\";\r\n hp=\"cipher\"");
            byte[] innerBytes = innerPlaintextBytes(bytes(r));
            byte[] body = Arrays.copyOfRange(original, indexOf(original, "\n\n".getBytes()) + 2, original.length);
            assertThat(Arrays.copyOfRange(innerBytes, innerBytes.length - body.length, innerBytes.length))
                    .isEqualTo(body);
            try (DecryptedMessage d = keys.decrypt(new ByteArrayInputStream(bytes(r)), dir)) {
                assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
            }
        }
    }

    private static byte[] innerPlaintextBytes(byte[] stored) throws Exception {
        String s = text(stored);
        String armor = s.substring(s.indexOf("-----BEGIN PGP MESSAGE-----"),
                s.indexOf("-----END PGP MESSAGE-----") + "-----END PGP MESSAGE-----".length());
        try (var result = new org.mailproxy.core.crypto.openpgp.Decryptor(keys.keyring, List.of(keys.aliceKey),
                org.mailproxy.core.crypto.openpgp.OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(armor.getBytes(StandardCharsets.US_ASCII)));
             InputStream in = result.plaintext().orElseThrow().openStream()) {
            return in.readAllBytes();
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void aHeaderOnlyDraftAndAnUnsignedOneStillDecrypt() throws Exception {
        byte[] original = ("From: alice@example.org\r\nSubject: " + CANARY_SUBJECT).getBytes(StandardCharsets.UTF_8);
        try (DraftEncryptor.Result r = keys.encryptor(1 << 16, 1L << 30, dir).encrypt(
                new ByteArrayInputStream(original), keys.alice.fingerprint(), null, "Encrypted draft")) {
            String s = text(bytes(r));
            assertThat(s).contains("Subject: Encrypted draft\r\n").doesNotContain("canary");
            try (DecryptedMessage d = keys.decrypt(new ByteArrayInputStream(bytes(r)), dir)) {
                assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                assertThat(d.subject()).contains(CANARY_SUBJECT);
                assertThat(d.signatures()).isEmpty();
            }
        }
    }

    @Test
    void mailTheClientEncryptedIsStoredAsItCame() throws Exception {
        byte[] pgpMime = ("From: alice@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: Multipart/Encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"q\"\r\n\r\n"
                + "--q\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--q\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQ==\r\n"
                + "-----END PGP MESSAGE-----\r\n--q--\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] inline = ("From: alice@example.org\r\nSubject: inline\r\n\r\n\r\n  -----BEGIN PGP MESSAGE-----\r\n\r\n"
                + "hQ==\r\n-----END PGP MESSAGE-----\r\n").getBytes(StandardCharsets.US_ASCII);
        for (byte[] m : List.of(pgpMime, inline)) {
            try (DraftEncryptor.Result r = encrypt(m)) {
                assertThat(r.outcome()).isEqualTo(DraftEncryptor.Outcome.STORED_AS_IS);
                assertThat(bytes(r)).isEqualTo(m);
                assertThat(r.size()).isEqualTo(m.length);
            }
        }
        // the armor further down, or a lookalike type, is not the client's encryption
        byte[] quoting = ("From: alice@example.org\r\nSubject: " + CANARY_SUBJECT + "\r\n\r\n" + CANARY_BODY
                + "\r\n-----BEGIN PGP MESSAGE-----\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] lookalike = ("Subject: " + CANARY_SUBJECT + "\r\nContent-Type: multipart/encrypted-ish; boundary=x\r\n\r\n"
                + CANARY_BODY).getBytes(StandardCharsets.UTF_8);
        for (byte[] m : List.of(quoting, lookalike)) {
            try (DraftEncryptor.Result r = encrypt(m)) {
                assertThat(r.outcome()).isEqualTo(DraftEncryptor.Outcome.ENCRYPTED);
                assertThat(text(bytes(r))).doesNotContain("canary");
            }
        }
    }

    @Test
    void limitsAndKeyProblemsFailWithoutLeavingASpool() throws Exception {
        Path spools = Files.createDirectory(dir.resolve("limits"));
        byte[] bigHeader = ("X-Filler: " + "a".repeat(5000) + "\r\n\r\nbody").getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> keys.encryptor(4096, 1L << 30, spools).encrypt(new ByteArrayInputStream(bigHeader),
                keys.alice.fingerprint(), keys.aliceKey, "[...]"))
                .isInstanceOf(IOException.class).hasMessageContaining("header section larger than 4096");
        byte[] big = (HEADER + "\r\n" + "x".repeat(3 << 20)).getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> new DraftEncryptor(() -> keys.keyring, new DraftEncryptor.Limits(1 << 16, 1 << 16,
                2 << 20, spools)).encrypt(new ByteArrayInputStream(big), keys.alice.fingerprint(), keys.aliceKey,
                "[...]")).isInstanceOf(SpoolOverflowException.class);
        assertThatThrownBy(() -> keys.encryptor(1 << 16, 1L << 30, spools).encrypt(
                new ByteArrayInputStream(big), "0".repeat(40), keys.aliceKey, "[...]"))
                .isInstanceOf(KeyException.class);
        try (Stream<Path> left = Files.list(spools)) {
            assertThat(left).as("spool files are deleted on failure").isEmpty();
        }
        assertThatThrownBy(() -> encryptWithSubject("a\r\nBcc: x@y"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private void encryptWithSubject(String subject) throws Exception {
        keys.encryptor(1 << 16, 1L << 30, dir).encrypt(new ByteArrayInputStream(new byte[0]),
                keys.alice.fingerprint(), keys.aliceKey, subject);
    }

    @Test
    void theOwnKeySignsWhenUnlockedEncryptsAloneWhenLockedAndIsAbsentWithoutASecretKey() throws Exception {
        try (AccountKeys accounts = AccountKeys.open(dir.resolve("keys"), Map.of(
                "alice@example.org", Optional.empty(), "nokey@example.org", Optional.empty()))) {
            DraftEncryptor.OwnKey locked = DraftEncryptor.ownKey(accounts, "Alice@example.org").orElseThrow();
            assertThat(locked.fingerprint()).isEqualTo(keys.alice.fingerprint());
            assertThat(locked.signer()).isNull();
            assertThat(DraftEncryptor.ownKey(accounts, "nokey@example.org")).isEmpty();
            assertThat(DraftEncryptor.ownKey(accounts, "stranger@example.org")).isEmpty();
            accounts.unlock("alice@example.org", PassphraseSource.ofChars(DraftKeys.PASS.clone()));
            DraftEncryptor.OwnKey unlocked = DraftEncryptor.ownKey(accounts, "alice@example.org").orElseThrow();
            assertThat(unlocked.signer()).isNotNull();

            byte[] original = (HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8);
            DraftEncryptor daemon = DraftEncryptor.forDaemon(dir.resolve("keys"),
                    new ImapSettings.Limits(65536, 1 << 20, 4096, 1 << 20, 256));
            for (DraftEncryptor.OwnKey k : List.of(locked, unlocked)) {
                try (DraftEncryptor.Result r = daemon.encrypt(new ByteArrayInputStream(original), k, "[...]");
                     DecryptedMessage d = keys.decrypt(r.message().openStream(), dir)) {
                    assertThat(d.kind()).isEqualTo(DecryptedMessage.Kind.DECRYPTED);
                    assertThat(d.signatures()).hasSize(k.signer() == null ? 0 : 1);
                }
            }
        }
        assertThat(DraftEncryptor.outputLimit(100 << 20)).isEqualTo((100L << 20) * 14 / 10 + 65536);
        assertThat(DraftEncryptor.outputLimit(Long.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void gpgDecryptsWhatIsStoredWithTheAccountsSecretKey() throws Exception {
        byte[] original = (HEADER + "\r\n" + BODY).getBytes(StandardCharsets.UTF_8);
        byte[] stored;
        try (DraftEncryptor.Result r = encrypt(original)) {
            stored = bytes(r);
        }
        String s = text(stored);
        byte[] armor = s.substring(s.indexOf("-----BEGIN PGP MESSAGE-----"), s.indexOf("\r\n--", s.indexOf(
                "-----END PGP MESSAGE-----"))).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream secret = new ByteArrayOutputStream();
        keys.keyring.export(keys.alice.fingerprint(), true, true, secret);
        Path home = Files.createTempDirectory(Path.of("/tmp"), "draftgpg",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            String pass = new String(DraftKeys.PASS);
            assertThat(gpg(home, secret.toByteArray(), "--passphrase", pass, "--import").exit).isZero();
            Gpg out = gpg(home, armor, "--passphrase", pass, "--decrypt");
            assertThat(out.exit).as(out.err).isZero();
            assertThat(out.err).contains("[GNUPG:] DECRYPTION_OKAY").contains("[GNUPG:] GOODMDC")
                    .contains("[GNUPG:] GOODSIG")
                    .containsPattern("\\[GNUPG:] VALIDSIG [0-9A-F]{40} .* " + keys.alice.fingerprint() + "\n");
            String inner = text(out.stdout);
            assertThat(inner).contains("Subject: " + CANARY_SUBJECT + "\r\n").contains("Bcc: " + CANARY_BCC + "\r\n")
                    .endsWith("\r\n\r\n" + BODY);
        } finally {
            new ProcessBuilder("gpgconf", "--homedir", home.toString(), "--kill", "all")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> w = Files.walk(home)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private record Gpg(int exit, byte[] stdout, String err) {
    }

    private static Gpg gpg(Path home, byte[] stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("gpg", "--homedir", home.toString(), "--batch", "--no-tty",
                "--pinentry-mode", "loopback", "--trust-model", "always", "--status-fd", "2"));
        cmd.addAll(List.of(args));
        Path in = Files.createTempFile(home, "in", ".bin");
        Path out = Files.createTempFile(home, "out", ".bin");
        Path err = Files.createTempFile(home, "err", ".txt");
        Files.write(in, stdin);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().put("GNUPGHOME", home.toString());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("gpg did not finish");
        }
        return new Gpg(p.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.ISO_8859_1));
    }

    @Test
    void thirtyMegabytesInASmallHeapGoThroughAnEncryptedSpoolOnDisk() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx32m", "-XX:+HeapDumpOnOutOfMemoryError",
                "-XX:HeapDumpPath=" + dir.resolve("oom.hprof"), "-cp", System.getProperty("java.class.path"),
                LargeDraftMain.class.getName(), dir.resolve("large").toString())
                .redirectErrorStream(true).start();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = text(in.readAllBytes());
        }
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("onDisk=true").contains("sameBody=true").contains("noCanary=true");
    }
}
