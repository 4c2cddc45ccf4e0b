package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.KeyFlags;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPPublicKeyRing;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePublicKeyKeyEncryptionMethodGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.Iterator;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A signing-capable subkey counts only when its binding signature (type 0x18) carries an embedded Primary Key
 * Binding signature (type 0x19) made by the subkey itself (RFC 9580 §5.2.1, §11.1; RFC 4880 §5.2.1, §11.1). Without
 * that back-signature anyone could bind somebody else's signing key to their own certificate and so claim that
 * person's signatures as theirs. The certificate is rebuilt here around a real signing subkey with three binding
 * signatures: with the genuine back-signature (the control, which must verify), without any, and with one made by
 * the primary key instead of the subkey. Messages signed by that subkey, detached and inside an encrypted message,
 * must verify as VALID only in the first case.
 */
class SigningSubkeyBackSignatureTest {
    enum Back { GENUINE, NONE, BY_PRIMARY }

    static Path dir;
    static TestKeys keys;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("backsig");
        keys = new TestKeys(dir);
    }

    @AfterAll
    static void tearDown() throws Exception {
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @ParameterizedTest(name = "{0} key, back-signature {1}")
    @CsvSource({"V4,GENUINE", "V4,NONE", "V4,BY_PRIMARY", "V6,GENUINE", "V6,NONE", "V6,BY_PRIMARY"})
    void signingSubkeyCountsOnlyWithItsBackSignature(KeyVersion version, Back back) throws Exception {
        KeyInfo signerInfo = version == KeyVersion.V4 ? keys.bob : keys.vera;
        boolean valid = back == Back.GENUINE;
        try (UnlockedKey signer = keys.unlock(keys.all, signerInfo)) {
            PGPPublicKeyRing original = new PGPPublicKeyRing(keys.export(signerInfo, false), Providers.FINGERPRINTS);
            PGPPublicKey primary = original.getPublicKey();
            PGPPublicKey sub = signer.signingKey().getPGPPublicKey();
            assertThat(sub.getKeyID()).as("the generated key signs with a subkey").isNotEqualTo(primary.getKeyID());
            PGPPrivateKey primaryPriv = signer.privateKey(primary.getKeyID());
            PGPPrivateKey subPriv = signer.privateKey(sub.getKeyID());
            PGPPublicKeyRing crafted = rebind(original, primary, primaryPriv, sub, subPriv, back);

            // the recipient's keyring: alice's own key and the crafted certificate
            Keyring ring = keys.keyringOf("alice-" + version + back, keys.alice);
            List<KeyInfo> imported = ring.importKeys(new ByteArrayInputStream(crafted.getEncoded()));
            assertThat(imported).hasSize(1);
            // the certificate itself stays usable (its user ID and encryption subkey are fine); the subkey does not
            // count as a signing key unless it signed its own binding
            assertThat(imported.get(0).canEncrypt()).isTrue();
            OpenPGPCertificate cert = ring.certificate(signerInfo.fingerprint());
            List<Long> signing = cert.getSigningKeys().stream().map(k -> k.getKeyIdentifier().getKeyId()).toList();
            if (valid) {
                assertThat(signing).as("signing keys of the crafted certificate").contains(sub.getKeyID());
            } else {
                assertThat(signing).as("signing keys of the crafted certificate").doesNotContain(sub.getKeyID());
            }
            assertThat(imported.get(0).canSign()).isEqualTo(valid || primaryCanSign(cert));

            byte[] data = "Subject: pay 10 EUR to Mallory\r\n\r\nsigned by the subkey\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            SignatureResult.Status want = valid ? SignatureResult.Status.VALID : SignatureResult.Status.BAD;

            // multipart/signed: a detached signature
            SignatureResult detached = new DetachedVerifier(ring)
                    .verify(detachedSignature(sub, subPriv, data), new ByteArrayInputStream(data));
            assertThat(detached.status()).isEqualTo(want);

            // inline: signed and encrypted to alice
            try (UnlockedKey alice = keys.unlock(ring, keys.alice);
                 DecryptionResult r = new Decryptor(ring, List.of(alice), OpenPgpLimits.DEFAULTS, null)
                         .decrypt(new ByteArrayInputStream(signedAndEncrypted(ring, sub, subPriv, data)))) {
                assertThat(TestKeys.plaintext(r)).isEqualTo(data);
                assertThat(r.signatures()).hasSize(1);
                SignatureResult s = r.signatures().get(0);
                assertThat(s.signerKeyId()).isEqualTo(Decryptor.keyIdHex(sub.getKeyID()));
                assertThat(s.status()).isEqualTo(want);
                assertThat(s.trustworthyFor(version == KeyVersion.V4 ? "bob@example.org" : "vera@example.org"))
                        .isEqualTo(valid);
            }
        }
    }

    private static boolean primaryCanSign(OpenPGPCertificate cert) {
        return cert.getSigningKeys().stream().anyMatch(k -> k.getKeyIdentifier().getKeyId()
                == cert.getPrimaryKey().getKeyIdentifier().getKeyId());
    }

    /**
     * Replaces every signature on {@code sub} with one new subkey binding signature (0x18, signing flag) made by the
     * primary key, carrying the back-signature {@code back} asks for.
     */
    private static PGPPublicKeyRing rebind(PGPPublicKeyRing ring, PGPPublicKey primary, PGPPrivateKey primaryPriv,
                                           PGPPublicKey sub, PGPPrivateKey subPriv, Back back) throws Exception {
        Date when = sub.getCreationTime();
        PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
        hashed.setSignatureCreationTime(true, when);
        hashed.setIssuerFingerprint(false, primary);
        hashed.setKeyFlags(true, KeyFlags.SIGN_DATA);
        if (back != Back.NONE) {
            // 0x19 over (primary, subkey): by the subkey itself, or forged with the primary key
            PGPPublicKey by = back == Back.GENUINE ? sub : primary;
            PGPSignatureGenerator bg = generator(by);
            bg.init(PGPSignature.PRIMARYKEY_BINDING, back == Back.GENUINE ? subPriv : primaryPriv);
            PGPSignatureSubpacketGenerator bh = new PGPSignatureSubpacketGenerator();
            bh.setSignatureCreationTime(true, when);
            bh.setIssuerFingerprint(false, by);
            bg.setHashedSubpackets(bh.generate());
            hashed.addEmbeddedSignature(true, bg.generateCertification(primary, sub));
        }
        PGPSignatureGenerator g = generator(primary);
        g.init(PGPSignature.SUBKEY_BINDING, primaryPriv);
        g.setHashedSubpackets(hashed.generate());
        PGPSignature binding = g.generateCertification(primary, sub);

        PGPPublicKey rebound = sub;
        for (Iterator<PGPSignature> it = sub.getSignatures(); it.hasNext(); ) {
            rebound = PGPPublicKey.removeCertification(rebound, it.next());
        }
        rebound = PGPPublicKey.addCertification(rebound, binding);
        return PGPPublicKeyRing.insertPublicKey(ring, rebound);
    }

    private static PGPSignatureGenerator generator(PGPPublicKey key) {
        return new PGPSignatureGenerator(new JcaPGPContentSignerBuilder(key.getAlgorithm(), HashAlgorithmTags.SHA256)
                .setProvider(Providers.BC), key, key.getVersion() == 6 ? 6 : 4);
    }

    private static PGPSignatureGenerator documentSigner(PGPPublicKey sub, PGPPrivateKey subPriv) throws Exception {
        PGPSignatureGenerator g = generator(sub);
        g.init(PGPSignature.BINARY_DOCUMENT, subPriv);
        PGPSignatureSubpacketGenerator h = new PGPSignatureSubpacketGenerator();
        h.setSignatureCreationTime(true, new Date());
        h.setIssuerFingerprint(false, sub);
        g.setHashedSubpackets(h.generate());
        return g;
    }

    private static byte[] detachedSignature(PGPPublicKey sub, PGPPrivateKey subPriv, byte[] data) throws Exception {
        PGPSignatureGenerator g = documentSigner(sub, subPriv);
        g.update(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArmoredOutputStream a = ArmoredOutputStream.builder().clearHeaders().build(out)) {
            g.generate().encode(a);
        }
        return out.toByteArray();
    }

    private static byte[] signedAndEncrypted(Keyring ring, PGPPublicKey sub, PGPPrivateKey subPriv, byte[] data)
            throws Exception {
        PGPEncryptedDataGenerator edg = new PGPEncryptedDataGenerator(
                new JcePGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256).setWithIntegrityPacket(true)
                        .setProvider(Providers.BC));
        edg.addMethod(new JcePublicKeyKeyEncryptionMethodGenerator(
                Encryptor.encryptionKey(ring.certificate(keys.alice.fingerprint()))).setProvider(Providers.BC));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        PGPSignatureGenerator g = documentSigner(sub, subPriv);
        try (OutputStream enc = edg.open(bos, new byte[4096])) {
            g.generateOnePassVersion(false).encode(enc);
            PGPLiteralDataGenerator l = new PGPLiteralDataGenerator();
            try (OutputStream lit = l.open(enc, PGPLiteralData.BINARY, "", data.length, new Date())) {
                lit.write(data);
            }
            g.update(data);
            g.generate().encode(enc);
        }
        return bos.toByteArray();
    }
}
