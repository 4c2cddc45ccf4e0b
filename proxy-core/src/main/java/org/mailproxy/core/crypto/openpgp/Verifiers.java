package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.BCPGKey;
import org.bouncycastle.bcpg.EdDSAPublicBCPGKey;
import org.bouncycastle.bcpg.Ed25519PublicBCPGKey;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.operator.PGPContentVerifier;
import org.bouncycastle.openpgp.operator.PGPContentVerifierBuilder;
import org.bouncycastle.openpgp.operator.PGPContentVerifierBuilderProvider;
import org.bouncycastle.openpgp.operator.PGPDigestCalculator;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentVerifierBuilderProvider;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPDigestCalculatorProviderBuilder;
import org.bouncycastle.util.BigIntegers;

import java.io.OutputStream;
import java.util.Set;

/**
 * Message signature verification: the hash of the (possibly hundreds of MB of) signed data through the JDK's
 * MessageDigest, which uses the CPU's SHA instructions, and an Ed25519 signature over that hash through Bouncy
 * Castle's Ed25519, several times faster than the JDK 17 one (about 0.15 ms against 1 ms, per message). Ed25519
 * covers both the legacy EdDSA encoding of v4 keys (RFC 9580 §5.2.3.4, curve OID 1.3.6.1.4.1.11591.15.1) and the
 * native one of v6 keys (§5.2.3.5); every other algorithm goes through the JCA as before.
 */
final class Verifiers implements PGPContentVerifierBuilderProvider {
    private static final Set<String> ED25519_OIDS = Set.of("1.3.6.1.4.1.11591.15.1", "1.3.101.112");

    private final JcaPGPContentVerifierBuilderProvider jca = new JcaPGPContentVerifierBuilderProvider();

    @Override
    public PGPContentVerifierBuilder get(int keyAlgorithm, int hashAlgorithm) throws PGPException {
        PGPContentVerifierBuilder fallback = jca.get(keyAlgorithm, hashAlgorithm);
        return publicKey -> {
            byte[] ed25519 = ed25519Key(keyAlgorithm, publicKey);
            return ed25519 == null ? fallback.build(publicKey)
                    : new Ed25519Verifier(keyAlgorithm, hashAlgorithm, publicKey.getKeyID(), ed25519);
        };
    }

    /** The raw 32-octet Ed25519 key, or null when the key is anything else. */
    private static byte[] ed25519Key(int keyAlgorithm, PGPPublicKey publicKey) {
        BCPGKey key = publicKey.getPublicKeyPacket().getKey();
        if (keyAlgorithm == PublicKeyAlgorithmTags.Ed25519 && key instanceof Ed25519PublicBCPGKey k) {
            return k.getKey().length == Ed25519PublicKeyParameters.KEY_SIZE ? k.getKey() : null;
        }
        if (keyAlgorithm == PublicKeyAlgorithmTags.EDDSA_LEGACY && key instanceof EdDSAPublicBCPGKey k
                && ED25519_OIDS.contains(k.getCurveOID().getId())) {
            // MPI of 0x40 followed by the 32-octet point (RFC 9580 §11.2.2)
            byte[] point = BigIntegers.asUnsignedByteArray(k.getEncodedPoint());
            if (point.length == 1 + Ed25519PublicKeyParameters.KEY_SIZE && point[0] == 0x40) {
                byte[] raw = new byte[Ed25519PublicKeyParameters.KEY_SIZE];
                System.arraycopy(point, 1, raw, 0, raw.length);
                return raw;
            }
        }
        return null;
    }

    static final class Ed25519Verifier implements PGPContentVerifier {
        private final int keyAlgorithm;
        private final int hashAlgorithm;
        private final long keyId;
        private final byte[] key;
        private final PGPDigestCalculator digest;

        Ed25519Verifier(int keyAlgorithm, int hashAlgorithm, long keyId, byte[] key) throws PGPException {
            this.keyAlgorithm = keyAlgorithm;
            this.hashAlgorithm = hashAlgorithm;
            this.keyId = keyId;
            this.key = key;
            // default JCA lookup: the JDK's SHA-2 with CPU intrinsics
            this.digest = new JcaPGPDigestCalculatorProviderBuilder().build().get(hashAlgorithm);
        }

        @Override
        public OutputStream getOutputStream() {
            return digest.getOutputStream();
        }

        @Override
        public int getHashAlgorithm() {
            return hashAlgorithm;
        }

        @Override
        public int getKeyAlgorithm() {
            return keyAlgorithm;
        }

        @Override
        public long getKeyID() {
            return keyId;
        }

        @Override
        public boolean verify(byte[] expected) {
            if (expected.length != Ed25519PublicKeyParameters.KEY_SIZE * 2) {
                return false;
            }
            byte[] hash = digest.getDigest();
            Ed25519Signer signer = new Ed25519Signer();
            signer.init(false, new Ed25519PublicKeyParameters(key, 0));
            signer.update(hash, 0, hash.length);
            return signer.verifySignature(expected);
        }
    }
}
