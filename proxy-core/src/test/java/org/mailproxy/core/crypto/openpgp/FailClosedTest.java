package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.BCPGInputStream;
import org.bouncycastle.bcpg.BCPGOutputStream;
import org.bouncycastle.bcpg.CompressionAlgorithmTags;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.Packet;
import org.bouncycastle.bcpg.PacketFormat;
import org.bouncycastle.bcpg.PacketTags;
import org.bouncycastle.bcpg.PublicKeyEncSessionPacket;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedDataGenerator;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSessionKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePublicKeyKeyEncryptionMethodGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** SECURITY.md items 1-7, each with the hostile input built here. */
class FailClosedTest {
    static Path dir;
    static TestKeys keys;
    static Keyring bobRing;
    static UnlockedKey bob;
    static PGPPublicKey bobEncryptionKey;
    static final List<String> failureMessages = new ArrayList<>();

    interface Body {
        void write(OutputStream encrypted) throws Exception;
    }

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("failclosed");
        keys = new TestKeys(dir);
        bobRing = keys.keyringOf("bob", keys.bob, keys.alice);
        bob = keys.unlock(bobRing, keys.bob);
        bobEncryptionKey = Encryptor.encryptionKey(bobRing.certificate(keys.bob.fingerprint()));
    }

    @AfterAll
    static void tearDown() throws Exception {
        bob.close();
        // SECURITY.md 3: every failure above looked the same to the caller
        assertThat(failureMessages).isNotEmpty().allMatch(DecryptionFailedException.MESSAGE::equals);
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static DecryptionFailedException fails(byte[] msg, OpenPgpLimits limits) {
        DecryptionFailedException e = catchThrowableOfType(DecryptionFailedException.class,
                () -> new Decryptor(bobRing, List.of(bob), limits, null).decrypt(new ByteArrayInputStream(msg)));
        assertThat(e).as("decryption must fail").isNotNull();
        failureMessages.add(e.getMessage());
        return e;
    }

    private static DecryptionFailedException fails(byte[] msg) {
        return fails(msg, OpenPgpLimits.DEFAULTS);
    }

    private static byte[] craft(JcePGPDataEncryptorBuilder builder, Body body) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        PGPEncryptedDataGenerator g = new PGPEncryptedDataGenerator(builder);
        g.addMethod(new JcePublicKeyKeyEncryptionMethodGenerator(bobEncryptionKey).setProvider(Providers.BC));
        try (OutputStream enc = g.open(bos, new byte[4096])) {
            body.write(enc);
        }
        return bos.toByteArray();
    }

    private static JcePGPDataEncryptorBuilder seipd1() {
        return new JcePGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256).setWithIntegrityPacket(true);
    }

    private static void literal(OutputStream out, byte[] data) throws IOException {
        PGPLiteralDataGenerator l = new PGPLiteralDataGenerator();
        try (OutputStream o = l.open(out, PGPLiteralData.BINARY, "", data.length, new Date())) {
            o.write(data);
        }
    }

    private static byte[] normal(boolean armor) throws Exception {
        return TestKeys.encrypt(bobRing, List.of(keys.bob.fingerprint()), null, armor,
                "Subject: secret\r\n\r\nattack at dawn\r\n".repeat(100).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void craftedMessagesDecryptWhenWellFormed() throws Exception {
        byte[] ok = craft(seipd1(), enc -> literal(enc, "fine".getBytes()));
        try (DecryptionResult r = new Decryptor(bobRing, List.of(bob), OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(ok))) {
            assertThat(TestKeys.plaintext(r)).isEqualTo("fine".getBytes());
        }
    }

    // ---- 1: SED refused, MDC failure fatal

    @Test
    void symmetricallyEncryptedDataWithoutIntegrityIsRefused() throws Exception {
        byte[] sed = craft(new JcePGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256)
                .setWithIntegrityPacket(false).setProvider(Providers.BC), enc -> literal(enc, "efail".getBytes()));
        assertThat(fails(sed).internalReason()).isEqualTo("sed-packet");
    }

    @Test
    void flippedCiphertextByteFails() throws Exception {
        byte[] msg = normal(false);
        msg[msg.length / 2] ^= 0x01;
        fails(msg);
        byte[] tail = normal(false);
        tail[tail.length - 3] ^= 0x40; // inside the MDC
        fails(tail);
    }

    // ---- 2: truncation and a stripped MDC

    @Test
    void truncatedCiphertextFails() throws Exception {
        byte[] msg = normal(false);
        for (int cut : new int[]{1, 10, 22, 23, msg.length / 2}) {
            fails(java.util.Arrays.copyOf(msg, msg.length - cut));
        }
        String armored = new String(normal(true), StandardCharsets.US_ASCII);
        int end = armored.indexOf("-----END");
        fails(armored.substring(0, end - 80).getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void strippedMdcFails() throws Exception {
        AtomicReference<PGPSessionKey> sessionKey = new AtomicReference<>();
        ByteArrayOutputStream real = new ByteArrayOutputStream();
        PGPEncryptedDataGenerator g = new PGPEncryptedDataGenerator(seipd1());
        g.addMethod(new JcePublicKeyKeyEncryptionMethodGenerator(bobEncryptionKey).setProvider(Providers.BC));
        g.setSessionKeyExtractionCallback(sessionKey::set);
        try (OutputStream enc = g.open(real, new byte[4096])) {
            literal(enc, "x".getBytes());
        }
        // keep the real PKESK, replace the SEIPD packet by one whose plaintext has no MDC packet
        Packet pkesk = new BCPGInputStream(new ByteArrayInputStream(real.toByteArray())).readPacket();
        assertThat(pkesk).isInstanceOf(PublicKeyEncSessionPacket.class);
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        byte[] prefix = new byte[16];
        Providers.RANDOM.nextBytes(prefix);
        plain.write(prefix);
        plain.write(prefix, 14, 2);
        literal(plain, "no integrity here".getBytes());
        Cipher c = Cipher.getInstance("AES/CFB/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(sessionKey.get().getKey(), "AES"),
                new IvParameterSpec(new byte[16]));
        byte[] ct = c.doFinal(plain.toByteArray());
        ByteArrayOutputStream forged = new ByteArrayOutputStream();
        BCPGOutputStream bo = new BCPGOutputStream(forged, PacketFormat.CURRENT);
        ((PublicKeyEncSessionPacket) pkesk).encode(bo);
        try (BCPGOutputStream body = new BCPGOutputStream(forged, PacketTags.SYM_ENC_INTEGRITY_PRO,
                ct.length + 1L)) {
            body.write(1);
            body.write(ct);
        }
        assertThat(sessionKey.get().getAlgorithm()).isEqualTo(SymmetricKeyAlgorithmTags.AES_256);
        fails(forged.toByteArray());
    }

    // ---- 5: compression

    @Test
    void secondCompressionLayerIsRefused() throws Exception {
        byte[] msg = craft(seipd1(), enc -> {
            PGPCompressedDataGenerator outer = new PGPCompressedDataGenerator(CompressionAlgorithmTags.ZIP);
            try (OutputStream o = outer.open(enc)) {
                PGPCompressedDataGenerator inner = new PGPCompressedDataGenerator(CompressionAlgorithmTags.ZLIB);
                try (OutputStream i = inner.open(o)) {
                    literal(i, "nested".getBytes());
                }
            }
        });
        assertThat(fails(msg).internalReason()).isEqualTo("limit");
    }

    @Test
    void oneCompressionLayerIsFineButTheBudgetHolds() throws Exception {
        Body bomb = enc -> {
            PGPCompressedDataGenerator z = new PGPCompressedDataGenerator(CompressionAlgorithmTags.ZLIB);
            try (OutputStream o = z.open(enc)) {
                literal(o, new byte[4 << 20]);
            }
        };
        byte[] msg = craft(seipd1(), bomb);
        assertThat(msg.length).isLessThan(64 << 10);
        try (DecryptionResult r = new Decryptor(bobRing, List.of(bob), OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(msg))) {
            assertThat(r.plaintext().orElseThrow().size()).isEqualTo(4 << 20);
        }
        assertThat(fails(msg, OpenPgpLimits.DEFAULTS.withMaxPlaintextBytes(1 << 20)).internalReason())
                .isEqualTo("limit");
    }

    // ---- 6: packet counts, armor lines, CRC

    @Test
    void tooManyPacketsAreRefused() throws Exception {
        byte[] msg = craft(seipd1(), enc -> {
            for (int i = 0; i < 100; i++) {
                enc.write(new byte[]{(byte) 0xCA, 3, 'P', 'G', 'P'}); // marker packets (RFC 9580 §5.8)
            }
            literal(enc, "x".getBytes());
        });
        assertThat(fails(msg).internalReason()).isEqualTo("limit");
    }

    @Test
    void overlongArmorLineIsRefused() throws Exception {
        String armored = new String(normal(true), StandardCharsets.US_ASCII);
        String hostile = armored.replaceFirst("\n", "\nComment: " + "A".repeat(5000) + "\n");
        assertThat(fails(hostile.getBytes(StandardCharsets.US_ASCII)).internalReason()).isEqualTo("limit");
    }

    @Test
    void wrongCrcAloneDoesNotReject() throws Exception {
        String armored = new String(normal(true), StandardCharsets.US_ASCII);
        String[] lines = armored.split("\n");
        StringBuilder sb = new StringBuilder();
        boolean replaced = false;
        for (String l : lines) {
            if (l.startsWith("=") && l.length() == 5) {
                l = l.equals("=AAAA") ? "=BBBB" : "=AAAA";
                replaced = true;
            }
            sb.append(l).append('\n');
        }
        assertThat(replaced).isTrue();
        try (DecryptionResult r = new Decryptor(bobRing, List.of(bob), OpenPgpLimits.DEFAULTS, null)
                .decrypt(new ByteArrayInputStream(sb.toString().getBytes(StandardCharsets.US_ASCII)))) {
            assertThat(r.forUs()).isTrue();
        }
    }

    @Test
    void notEncryptedInputIsAFailureToo() throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        literal(bos, "plain".getBytes());
        fails(bos.toByteArray());
        fails("-----BEGIN PGP MESSAGE-----\n\n!!!!\n-----END PGP MESSAGE-----\n".getBytes());
        fails(new byte[0]);
    }

    // ---- 7: key import

    @Test
    void thirdPartyCertificationsAreDroppedOnImport() throws Exception {
        OpenPGPCertificate bobCert = keys.all.certificate(keys.bob.fingerprint());
        PGPPublicKeyRing ring = bobCert.getPGPPublicKeyRing();
        PGPPublicKey bobPrimary = ring.getPublicKey();
        try (UnlockedKey alice = keys.unlock(keys.all, keys.alice)) {
            PGPPublicKey alicePrimary = alice.certificate().getPrimaryKey().getPGPPublicKey();
            PGPSignatureGenerator g = new PGPSignatureGenerator(new JcaPGPContentSignerBuilder(
                    alicePrimary.getAlgorithm(), HashAlgorithmTags.SHA256).setProvider(Providers.BC), alicePrimary);
            g.init(PGPSignature.DEFAULT_CERTIFICATION, alice.privateKey(alicePrimary.getKeyID()));
            PGPSignature foreign = g.generateCertification("<bob@example.org>", bobPrimary);
            PGPPublicKey flooded = bobPrimary;
            for (int i = 0; i < 50; i++) {
                flooded = PGPPublicKey.addCertification(flooded, "<bob@example.org>", foreign);
            }
            ring = PGPPublicKeyRing.insertPublicKey(ring, flooded);
        }
        Keyring fresh = Keyring.open(dir.resolve("fresh-" + System.nanoTime()));
        fresh.importKeys(new ByteArrayInputStream(ring.getEncoded()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fresh.export(keys.bob.fingerprint(), false, false, out);
        PGPPublicKeyRing stored = new PGPPublicKeyRing(out.toByteArray(), Providers.FINGERPRINTS);
        long own = stored.getPublicKey().getKeyID();
        int foreignSigs = 0;
        for (Iterator<PGPSignature> it = stored.getPublicKey().getSignaturesForID("<bob@example.org>");
             it.hasNext(); ) {
            if (it.next().getKeyID() != own) {
                foreignSigs++;
            }
        }
        assertThat(foreignSigs).isZero();
    }

    @Test
    void importCapsSubkeysAndUserIds() throws Exception {
        Keyring tight = Keyring.open(dir.resolve("tight-" + System.nanoTime()), new KeyLimits(1 << 20, 1 << 16,
                1, 1, 8, 10));
        assertThatThrownBy(() -> tight.importKeys(new ByteArrayInputStream(keys.export(keys.bob, false))))
                .isInstanceOf(KeyException.class).hasMessageContaining("subkeys");
    }

    @Test
    void subkeyWithoutBindingSignatureIsNeverUsed() throws Exception {
        PGPPublicKeyRing ring = keys.all.certificate(keys.bob.fingerprint()).getPGPPublicKeyRing();
        PGPPublicKey enc = Encryptor.encryptionKey(keys.all.certificate(keys.bob.fingerprint()));
        PGPPublicKey unbound = enc;
        for (Iterator<PGPSignature> it = enc.getSignatures(); it.hasNext(); ) {
            unbound = PGPPublicKey.removeCertification(unbound, it.next());
        }
        ring = PGPPublicKeyRing.insertPublicKey(ring, unbound);
        Keyring k = Keyring.open(dir.resolve("unbound-" + System.nanoTime()));
        k.importKeys(new ByteArrayInputStream(ring.getEncoded()));
        assertThat(k.find(keys.bob.fingerprint()).orElseThrow().canEncrypt()).isFalse();
        assertThatThrownBy(() -> new Encryptor(k).open(new ByteArrayOutputStream(),
                List.of(keys.bob.fingerprint()), null, false))
                .isInstanceOf(KeyException.class).hasMessageContaining("no valid encryption key");
    }
}
