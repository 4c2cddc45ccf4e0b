package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** What we write, gpg 2.2 and sq read; what they write, we read. */
@Tag("interop")
class GpgSqInteropTest {
    static Path dir;
    static TestKeys keys;
    static Keyring aliceRing;
    static UnlockedKey alice;
    static ExternalTool gpg;
    static ExternalTool sq;
    static String gusFpr;
    static Path samKey;
    static String samFpr;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("interop");
        keys = new TestKeys(dir);
        aliceRing = keys.keyringOf("alice", keys.alice, keys.bob);
        alice = keys.unlock(aliceRing, keys.alice);
        if (ExternalTool.onPath("gpg")) {
            gpg = ExternalTool.require("gpg");
            gpg.ok("--passphrase", "", "--quick-gen-key", "Gus <gus@example.org>", "future-default", "default",
                    "never");
            Path secret = dir.resolve("alice-secret.pgp");
            Files.write(secret, keys.export(keys.alice, true));
            gpg.ok("--passphrase", new String(TestKeys.PASS), "--import", secret.toString());
            Path gus = dir.resolve("gus.pgp");
            gpg.ok("--export", "-o", gus.toString(), "gus@example.org");
            try (InputStream in = Files.newInputStream(gus)) {
                gusFpr = aliceRing.importKeys(in).get(0).fingerprint();
            }
        }
        if (ExternalTool.onPath("sq")) {
            sq = ExternalTool.require("sq");
            samKey = sq.home.resolve("sam.pgp");
            sq.ok("key", "generate", "--userid", "<sam@example.org>", "--export", samKey.toString());
            Path cert = sq.home.resolve("sam-cert.pgp");
            sq.ok("key", "extract-cert", "-o", cert.toString(), samKey.toString());
            try (InputStream in = Files.newInputStream(cert)) {
                samFpr = aliceRing.importKeys(in).get(0).fingerprint();
            }
            Files.write(sq.home.resolve("alice-cert.pgp"), keys.export(keys.alice, false));
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (alice != null) {
            alice.close();
        }
        if (gpg != null) {
            gpg.close();
        }
        if (sq != null) {
            sq.close();
        }
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static void requireGpg() {
        org.junit.jupiter.api.Assumptions.assumeTrue(gpg != null, "gpg is not installed: interop test skipped");
    }

    private static void requireSq() {
        org.junit.jupiter.api.Assumptions.assumeTrue(sq != null, "sq is not installed: interop test skipped");
    }

    @ParameterizedTest(name = "armor={0} signed={1} recipients={2}")
    @CsvSource({"true,true,1", "false,true,2", "true,false,2", "false,false,1"})
    void gpgDecryptsWhatWeWrite(boolean armor, boolean signed, int recipients) throws Exception {
        requireGpg();
        byte[] plain = ("From: alice@example.org\r\n\r\nhello gus " + armor + signed).getBytes();
        List<String> to = new ArrayList<>(List.of(gusFpr));
        if (recipients > 1) {
            to.add(keys.bob.fingerprint());
        }
        Path msg = dir.resolve("to-gpg-" + armor + signed + recipients + ".pgp");
        Files.write(msg, TestKeys.encrypt(aliceRing, to, signed ? alice : null, armor, plain));
        Path out = dir.resolve("from-gpg.txt");
        Files.deleteIfExists(out);
        ExternalTool.Result r = gpg.ok("--status-fd", "1", "--passphrase", "", "-o", out.toString(), "--decrypt",
                msg.toString());
        assertThat(Files.readAllBytes(out)).isEqualTo(plain);
        assertThat(r.stdout()).contains("DECRYPTION_OKAY").contains("GOODMDC");
        if (signed) {
            assertThat(r.stdout()).contains("GOODSIG").contains("VALIDSIG");
        } else {
            assertThat(r.stdout()).doesNotContain("GOODSIG");
        }
    }

    @ParameterizedTest(name = "compress={0} signed={1} several={2}")
    @CsvSource({"true,true,false", "false,true,true", "true,false,true", "false,false,false"})
    void weDecryptWhatGpgWrites(boolean compress, boolean signed, boolean several) throws Exception {
        requireGpg();
        Path in = dir.resolve("plain.txt");
        Files.writeString(in, "From: gus@example.org\n\nhello alice\n".repeat(50));
        Path msg = dir.resolve("from-gpg.asc");
        Files.deleteIfExists(msg);
        List<String> args = new ArrayList<>(List.of("--passphrase", "", "-a", "-o", msg.toString(),
                "-r", keys.alice.fingerprint()));
        if (several) {
            args.addAll(List.of("-r", "gus@example.org"));
        }
        args.addAll(List.of("-z", compress ? "6" : "0"));
        if (signed) {
            args.addAll(List.of("-u", "gus@example.org", "--sign"));
        }
        args.addAll(List.of("--encrypt", in.toString()));
        gpg.ok(args.toArray(String[]::new));
        try (DecryptionResult r = new Decryptor(aliceRing, List.of(alice), OpenPgpLimits.DEFAULTS, null)
                .decrypt(Files.newInputStream(msg))) {
            assertThat(r.forUs()).isTrue();
            assertThat(TestKeys.plaintext(r)).isEqualTo(Files.readAllBytes(in));
            assertThat(r.recipientKeyIds()).hasSize(several ? 2 : 1);
            if (signed) {
                assertThat(r.signatures()).hasSize(1);
                assertThat(r.signatures().get(0).status()).isEqualTo(SignatureResult.Status.VALID);
                assertThat(r.signatures().get(0).signerFingerprint()).contains(gusFpr);
                assertThat(r.signatures().get(0).withFrom("gus@example.org").fromMatches()).isTrue();
            } else {
                assertThat(r.signatures()).isEmpty();
            }
        }
    }

    @Test
    void gpgMessageToAnotherKeyIsNotForUs() throws Exception {
        requireGpg();
        Path in = dir.resolve("plain2.txt");
        Files.writeString(in, "secret for gus only");
        Path msg = dir.resolve("gus-only.pgp");
        Files.deleteIfExists(msg);
        gpg.ok("-o", msg.toString(), "-r", "gus@example.org", "--encrypt", in.toString());
        try (DecryptionResult r = new Decryptor(aliceRing, List.of(alice), OpenPgpLimits.DEFAULTS, null)
                .decrypt(Files.newInputStream(msg))) {
            assertThat(r.forUs()).isFalse();
            assertThat(r.plaintext()).isEmpty();
        }
    }

    @Test
    void fiftyMegabytesBothWaysWithGpg() throws Exception {
        requireGpg();
        Path big = dir.resolve("big.bin");
        byte[] wantHash = writeRandom(big, 50, 5);
        // ours -> gpg
        Path enc = dir.resolve("big.pgp");
        encryptFile(big, enc, List.of(gusFpr, keys.alice.fingerprint()));
        Path dec = dir.resolve("big.out");
        ExternalTool.Result r = gpg.ok("--status-fd", "1", "--passphrase", "", "-o", dec.toString(), "--decrypt",
                enc.toString());
        assertThat(r.stdout()).contains("GOODSIG").contains("GOODMDC");
        assertThat(sha256(dec)).isEqualTo(wantHash);
        // gpg -> ours
        Path enc2 = dir.resolve("big2.asc");
        gpg.ok("-a", "-z", "0", "-o", enc2.toString(), "-r", keys.alice.fingerprint(), "-u", "gus@example.org",
                "--passphrase", "", "--sign", "--encrypt", big.toString());
        assertWeDecryptAndVerify(enc2, wantHash, gusFpr);
        Files.delete(big);
        Files.delete(enc);
        Files.delete(enc2);
        Files.delete(dec);
    }

    /**
     * 50 MB through sq (Sequoia) both ways, signed, streamed through files and hashed: no copy of the message is
     * held in the heap, so this also shows that neither side needs the whole message in memory.
     */
    @Test
    void fiftyMegabytesBothWaysWithSq() throws Exception {
        requireSq();
        Path big = sq.home.resolve("big.bin");
        byte[] wantHash = writeRandom(big, 50, 7);
        // ours -> sq: encrypted to sam and signed by alice; sq must decrypt and check alice's signature
        Path enc = sq.home.resolve("big.pgp");
        encryptFile(big, enc, List.of(samFpr, keys.alice.fingerprint()));
        Path dec = sq.home.resolve("big.out");
        ExternalTool.Result r = sq.ok("decrypt", "--recipient-key", samKey.toString(), "--signer-cert",
                sq.home.resolve("alice-cert.pgp").toString(), "-o", dec.toString(), enc.toString());
        assertThat(r.stderr()).containsIgnoringCase("good signature");
        assertThat(r.stderr()).doesNotContainIgnoringCase("bad signature");
        assertThat(sha256(dec)).isEqualTo(wantHash);
        Files.delete(dec);
        Files.delete(enc);
        // sq -> ours: encrypted to alice and signed by sam, binary, uncompressed
        Path enc2 = sq.home.resolve("big2.pgp");
        sq.ok("encrypt", "--binary", "--recipient-cert", sq.home.resolve("alice-cert.pgp").toString(),
                "--signer-key", samKey.toString(), "--compression", "none", "-o", enc2.toString(), big.toString());
        assertWeDecryptAndVerify(enc2, wantHash, samFpr);
        Files.delete(enc2);
        Files.delete(big);
    }

    /** Writes {@code megabytes} MiB of seeded random data to {@code file}; returns its SHA-256. */
    private static byte[] writeRandom(Path file, int megabytes, long seed) throws Exception {
        byte[] chunk = new byte[1 << 20];
        Random rnd = new Random(seed);
        MessageDigest want = MessageDigest.getInstance("SHA-256");
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(file))) {
            for (int i = 0; i < megabytes; i++) {
                rnd.nextBytes(chunk);
                o.write(chunk);
                want.update(chunk);
            }
        }
        return want.digest();
    }

    /** Streams {@code plain} through our Encryptor to {@code to}, signed by alice, binary. */
    private static void encryptFile(Path plain, Path enc, List<String> to) throws Exception {
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(enc));
             OutputStream e = new Encryptor(aliceRing).open(o, to, alice, false);
             InputStream i = Files.newInputStream(plain)) {
            i.transferTo(e);
        }
    }

    /** Decrypts {@code msg} with alice's key; the plaintext must hash to {@code wantHash}, one VALID signature. */
    private static void assertWeDecryptAndVerify(Path msg, byte[] wantHash, String signerFpr) throws Exception {
        try (InputStream in = Files.newInputStream(msg);
             DecryptionResult d = new Decryptor(aliceRing, List.of(alice), OpenPgpLimits.DEFAULTS, null)
                     .decrypt(in)) {
            try (InputStream i = d.plaintext().orElseThrow().openStream()) {
                assertThat(sha256(i)).isEqualTo(wantHash);
            }
            assertThat(d.signatures()).extracting(SignatureResult::status)
                    .containsExactly(SignatureResult.Status.VALID);
            assertThat(d.signatures().get(0).signerFingerprint()).contains(signerFpr);
        }
    }

    @ParameterizedTest(name = "armor={0} signed={1}")
    @CsvSource({"true,true", "false,false"})
    void sqDecryptsWhatWeWrite(boolean armor, boolean signed) throws Exception {
        requireSq();
        byte[] plain = ("hello sam " + armor).getBytes();
        Path msg = sq.home.resolve("to-sq.pgp");
        Files.write(msg, TestKeys.encrypt(aliceRing, List.of(samFpr, keys.alice.fingerprint()),
                signed ? alice : null, armor, plain));
        Path out = sq.home.resolve("from-sq.txt");
        Files.deleteIfExists(out);
        List<String> args = new ArrayList<>(List.of("decrypt", "--recipient-key", samKey.toString(), "-o",
                out.toString()));
        if (signed) {
            args.addAll(List.of("--signer-cert", sq.home.resolve("alice-cert.pgp").toString()));
        }
        args.add(msg.toString());
        ExternalTool.Result r = sq.ok(args.toArray(String[]::new));
        assertThat(Files.readAllBytes(out)).isEqualTo(plain);
        if (signed) {
            assertThat(r.stderr()).containsIgnoringCase("good signature");
        }
    }

    @ParameterizedTest(name = "compression={0}")
    @CsvSource({"none", "pad", "zip"})
    void weDecryptWhatSqWrites(String compression) throws Exception {
        requireSq();
        Path in = sq.home.resolve("plain.txt");
        Files.writeString(in, "hello alice from sam\n".repeat(20));
        Path cert = sq.home.resolve("alice-cert.pgp");
        Path msg = sq.home.resolve("from-sq.asc");
        Files.deleteIfExists(msg);
        sq.ok("encrypt", "--recipient-cert", cert.toString(), "--signer-key", samKey.toString(), "--compression",
                compression, "-o", msg.toString(), in.toString());
        try (DecryptionResult r = new Decryptor(aliceRing, List.of(alice), OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(Files.readAllBytes(msg)))) {
            assertThat(TestKeys.plaintext(r)).isEqualTo(Files.readAllBytes(in));
            assertThat(r.signatures()).extracting(SignatureResult::status)
                    .containsExactly(SignatureResult.Status.VALID);
            assertThat(r.signatures().get(0).signerFingerprint()).contains(samFpr);
        }
    }

    private static byte[] sha256(Path p) throws Exception {
        try (InputStream in = Files.newInputStream(p)) {
            return sha256(in);
        }
    }

    private static byte[] sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
        }
        return md.digest();
    }

    @Test
    void revokedAndExpiredGpgKeysAreListedAsSuchAndNeverEncryptedTo() throws Exception {
        requireGpg();
        gpg.ok("--passphrase", "", "--quick-gen-key", "Rita <rita@example.org>", "future-default", "default",
                "never");
        gpg.ok("--passphrase", "", "--faked-system-time", "20200101T000000", "--quick-gen-key",
                "Ed <ed@example.org>", "future-default", "default", "1d");
        String rita = gpg.ok("--with-colons", "--list-keys", "rita@example.org").stdout().lines()
                .filter(l -> l.startsWith("fpr:")).findFirst().orElseThrow().split(":")[9];
        // gpg writes a revocation certificate at key creation, prefixed with ':' against accidental import
        Path rev = gpg.home.resolve("openpgp-revocs.d").resolve(rita + ".rev");
        Path clean = gpg.home.resolve("rita.rev");
        Files.writeString(clean, Files.readString(rev).replace(":-----BEGIN", "-----BEGIN"));
        gpg.ok("--import", clean.toString());
        Path exported = gpg.home.resolve("re.asc");
        gpg.ok("-a", "-o", exported.toString(), "--export", "rita@example.org", "ed@example.org");
        Keyring k = Keyring.open(dir.resolve("revoked-" + System.nanoTime()));
        List<KeyInfo> infos;
        try (InputStream in = Files.newInputStream(exported)) {
            infos = k.importKeys(in);
        }
        assertThat(infos).hasSize(2);
        KeyInfo r = infos.stream().filter(i -> i.fingerprint().equals(rita)).findFirst().orElseThrow();
        KeyInfo e = infos.stream().filter(i -> !i.fingerprint().equals(rita)).findFirst().orElseThrow();
        assertThat(r.revoked()).isTrue();
        assertThat(r.usable()).isFalse();
        assertThat(e.expires()).isPresent();
        assertThat(e.canEncrypt()).isFalse();
        for (KeyInfo i : infos) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Encryptor(k).open(
                    new java.io.ByteArrayOutputStream(), List.of(i.fingerprint()), null, false))
                    .isInstanceOf(KeyException.class);
        }
    }
}
