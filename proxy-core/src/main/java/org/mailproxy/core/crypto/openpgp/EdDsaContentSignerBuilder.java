package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.bcpg.PublicKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.operator.PGPContentSigner;
import org.bouncycastle.openpgp.operator.PGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentSignerBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPKeyConverter;

import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Signature;

/**
 * Signatures by Ed25519 keys (v4 EdDSALegacy and v6 Ed25519) over a single SHA-256 pass of the signed data.
 *
 * <p>An OpenPGP EdDSA signature signs the hash of the data (RFC 9580 §5.2.4), and the same hash gives the
 * signature's two quick-check octets. Bouncy Castle's JCA signer feeds the data to two digests of the same algorithm
 * for these, which costs a second SHA-256 over every octet of a message (about a fifth of an encrypt+sign). Other
 * key types (RSA, ECDSA, Ed448) go to Bouncy Castle's builder unchanged.
 */
final class EdDsaContentSignerBuilder implements PGPContentSignerBuilder {
    private final int keyAlgorithm;

    private EdDsaContentSignerBuilder(int keyAlgorithm) {
        this.keyAlgorithm = keyAlgorithm;
    }

    /** The builder for signatures by {@code key} with SHA-256. */
    static PGPContentSignerBuilder forKey(PGPPublicKey key) {
        int algorithm = key.getAlgorithm();
        if (algorithm == PublicKeyAlgorithmTags.EDDSA_LEGACY || algorithm == PublicKeyAlgorithmTags.Ed25519) {
            return new EdDsaContentSignerBuilder(algorithm);
        }
        return jca(algorithm);
    }

    private static PGPContentSignerBuilder jca(int algorithm) {
        return new JcaPGPContentSignerBuilder(algorithm, HashAlgorithmTags.SHA256).setProvider(Providers.BC)
                .setDigestProvider(Providers.jdkDigest()).setSecureRandom(Providers.RANDOM);
    }

    @Override
    public PGPContentSigner build(int signatureType, PGPPrivateKey privateKey) throws PGPException {
        PrivateKey key = new JcaPGPKeyConverter().setProvider(Providers.BC).getPrivateKey(privateKey);
        if (!"Ed25519".equalsIgnoreCase(key.getAlgorithm()) && !"EdDSA".equalsIgnoreCase(key.getAlgorithm())) {
            // legacy EdDSA over Ed448
            return jca(keyAlgorithm).build(signatureType, privateKey);
        }
        MessageDigest sha256;
        Signature ed25519;
        try {
            sha256 = MessageDigest.getInstance("SHA-256", Providers.jdkDigest());
            ed25519 = Signature.getInstance("Ed25519", Providers.BC);
            ed25519.initSign(key);
        } catch (GeneralSecurityException e) {
            throw new PGPException("Ed25519 unavailable", e);
        }
        long keyId = privateKey.getKeyID();
        return new PGPContentSigner() {
            private final OutputStream out = new OutputStream() {
                @Override
                public void write(int b) {
                    sha256.update((byte) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    sha256.update(b, off, len);
                }
            };
            private byte[] digest;

            @Override
            public OutputStream getOutputStream() {
                return out;
            }

            @Override
            public byte[] getDigest() {
                if (digest == null) {
                    digest = sha256.digest();
                }
                return digest.clone();
            }

            @Override
            public byte[] getSignature() {
                try {
                    ed25519.update(getDigest());
                    return ed25519.sign();
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("Ed25519 signing failed", e);
                }
            }

            @Override
            public int getType() {
                return signatureType;
            }

            @Override
            public int getHashAlgorithm() {
                return HashAlgorithmTags.SHA256;
            }

            @Override
            public int getKeyAlgorithm() {
                return keyAlgorithm;
            }

            @Override
            public long getKeyID() {
                return keyId;
            }
        };
    }
}
