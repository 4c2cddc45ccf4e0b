package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentVerifierBuilderProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Ed25519 shortcut in {@link Verifiers} agrees with the JCA on legacy EdDSA (v4) and native Ed25519 (v6)
 * signatures: valid stays valid, and other data, another hash, a flipped signature octet or another key are bad.
 */
class VerifiersTest {
    static Path dir;
    static TestKeys keys;

    @BeforeAll
    static void keys() throws Exception {
        dir = Files.createTempDirectory("verifiers");
        keys = new TestKeys(dir);
    }

    @AfterAll
    static void cleanup() throws Exception {
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static PGPSignature sign(UnlockedKey key, int hash, byte[] data) throws Exception {
        OpenPGPCertificate.OpenPGPComponentKey sk = key.signingKey();
        PGPPublicKey pub = sk.getPGPPublicKey();
        PGPSignatureGenerator g = new PGPSignatureGenerator(new JcaPGPContentSignerBuilder(pub.getAlgorithm(), hash)
                .setProvider(Providers.BC), pub, pub.getVersion() == 6 ? 6 : 4);
        g.init(PGPSignature.BINARY_DOCUMENT, key.privateKey(sk.getKeyIdentifier().getKeyId()));
        g.update(data);
        return g.generate();
    }

    private static boolean ours(PGPSignature sig, PGPPublicKey key, byte[] data) throws Exception {
        sig.init(new Verifiers(), key);
        sig.update(data);
        return sig.verify();
    }

    private static boolean jca(PGPSignature sig, PGPPublicKey key, byte[] data) throws Exception {
        sig.init(new JcaPGPContentVerifierBuilderProvider().setProvider(Providers.BC), key);
        sig.update(data);
        return sig.verify();
    }

    @Test
    void agreesWithTheJcaOnV4AndV6Keys() throws Exception {
        byte[] data = "Pay 10 EUR\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] other = "Pay 99 EUR\r\n".getBytes(StandardCharsets.US_ASCII);
        try (UnlockedKey alice = keys.unlock(keys.all, keys.alice);
             UnlockedKey vera = keys.unlock(keys.all, keys.vera);
             UnlockedKey bob = keys.unlock(keys.all, keys.bob)) {
            assertThat(alice.signingKey().getPGPPublicKey().getAlgorithm())
                    .isEqualTo(PublicKeyAlgorithmTags.EDDSA_LEGACY);
            assertThat(vera.signingKey().getPGPPublicKey().getAlgorithm()).isEqualTo(PublicKeyAlgorithmTags.Ed25519);
            for (UnlockedKey signer : new UnlockedKey[]{alice, vera}) {
                PGPPublicKey pub = signer.signingKey().getPGPPublicKey();
                assertThat(new Verifiers().get(pub.getAlgorithm(), HashAlgorithmTags.SHA256).build(pub))
                        .isInstanceOf(Verifiers.Ed25519Verifier.class);
                for (int hash : new int[]{HashAlgorithmTags.SHA256, HashAlgorithmTags.SHA512}) {
                    PGPSignature sig = sign(signer, hash, data);
                    assertThat(ours(sig, pub, data)).isTrue();
                    assertThat(jca(sig, pub, data)).isTrue();
                    assertThat(ours(sig, pub, other)).isFalse();
                    assertThat(jca(sig, pub, other)).isFalse();
                    if (signer == alice) {
                        // another v4 key (Bouncy Castle refuses to match v6 signatures with v4 keys at all)
                        assertThat(ours(sig, bob.signingKey().getPGPPublicKey(), data)).isFalse();
                    }

                    byte[] encoded = sig.getEncoded();
                    // the last octet belongs to the signature value (S of the legacy MPIs, or the raw 64 octets)
                    encoded[encoded.length - 1] ^= 0x01;
                    Object parsed = new PGPObjectFactory(encoded, Providers.FINGERPRINTS).nextObject();
                    assertThat(parsed).isInstanceOf(PGPSignatureList.class);
                    PGPSignature flipped = ((PGPSignatureList) parsed).get(0);
                    assertThat(ours(flipped, pub, data)).isFalse();
                    assertThat(jca(flipped, pub, data)).isFalse();
                }
            }
        }
    }
}
