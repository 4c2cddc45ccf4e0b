package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.AEADAlgorithmTags;
import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.bcpg.sig.Features;
import org.bouncycastle.openpgp.PGPEncryptedDataGenerator;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPLiteralDataGenerator;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.PGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.jcajce.JcePublicKeyKeyEncryptionMethodGenerator;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Streams one OpenPGP message: encrypted to each recipient's newest valid encryption subkey, optionally signed
 * (one-pass signature in front, signature after the literal data, both inside the encryption), optionally armored.
 * SEIPDv1 with MDC (AES-256, through the JDK's AES) unless every recipient is a v6 key whose certificate announces
 * SEIPDv2 in its Features subpacket (RFC 9580 §5.2.3.32), then SEIPDv2 with AES-256/OCB. No compression: mail transport compresses
 * nothing, and compression under encryption is a side channel (RFC 9580 §13.3). Memory stays flat: partial-length
 * packets of 64 KiB.
 */
public final class Encryptor {
    private static final int BUFFER = 1 << 16;

    private final Keyring keyring;

    public Encryptor(Keyring keyring) {
        this.keyring = keyring;
    }

    /**
     * Opens the plaintext stream.
     *
     * @param out                   where the OpenPGP message goes; not closed
     * @param recipientFingerprints primary-key fingerprints from the keyring (include the sender's own)
     * @param signer                key to sign with, or null for unsigned
     * @param armor                 ASCII armor (LF line ends, no Version header)
     * @return the stream the plaintext is written to; closing it finishes the message
     */
    public OutputStream open(OutputStream out, List<String> recipientFingerprints, UnlockedKey signer, boolean armor)
            throws KeyException, IOException {
        if (recipientFingerprints.isEmpty()) {
            throw new KeyException("no recipients");
        }
        Map<String, OpenPGPCertificate> certs = new LinkedHashMap<>();
        for (String fpr : recipientFingerprints) {
            OpenPGPCertificate c = keyring.certificate(fpr.toUpperCase(java.util.Locale.ROOT));
            if (c == null) {
                throw new KeyException("no certificate for " + fpr);
            }
            certs.put(Keyring.fingerprint(c), c);
        }
        List<PGPPublicKey> keys = new ArrayList<>();
        boolean allV2 = true;
        for (OpenPGPCertificate c : certs.values()) {
            keys.add(encryptionKey(c));
            // v4 recipients always get SEIPDv1: a v4 key may move to an OpenPGP 4880 implementation (GnuPG 2.2)
            // even when its Features claim SEIPDv2 (Bouncy Castle sets that bit on every key it generates)
            allV2 &= c.getPrimaryKey().getVersion() == 6 && supportsSeipdV2(c);
        }
        PGPDataEncryptorBuilder data;
        if (allV2) {
            data = new JcePGPDataEncryptorBuilder(SymmetricKeyAlgorithmTags.AES_256).setSecureRandom(Providers.RANDOM)
                    .setWithAEAD(AEADAlgorithmTags.OCB, 16).setUseV6AEAD().setProvider(Providers.BC);
        } else {
            data = new Seipd1EncryptorBuilder(Providers.RANDOM);
        }
        PGPEncryptedDataGenerator edg = new PGPEncryptedDataGenerator(data);
        for (PGPPublicKey k : keys) {
            edg.addMethod(new JcePublicKeyKeyEncryptionMethodGenerator(k).setProvider(Providers.BC)
                    .setSecureRandom(Providers.RANDOM));
        }
        OutputStream base = new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
        ArmoredOutputStream armored = armor ? ArmoredOutputStream.builder().clearHeaders().build(base) : null;
        OutputStream target = armored != null ? armored : base;
        try {
            OutputStream enc = edg.open(target, new byte[BUFFER]);
            PGPSignatureGenerator sg = null;
            if (signer != null) {
                OpenPGPCertificate.OpenPGPComponentKey sk = signer.signingKey();
                PGPPublicKey pub = sk.getPGPPublicKey();
                // one SHA-256 pass through the JDK (SHA-NI intrinsics) for Ed25519 keys
                sg = new PGPSignatureGenerator(EdDsaContentSignerBuilder.forKey(pub), pub, pub.getVersion() == 6 ? 6 : 4);
                sg.init(PGPSignature.BINARY_DOCUMENT, signer.privateKey(sk.getKeyIdentifier().getKeyId()));
                PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
                hashed.setSignatureCreationTime(true, new Date());
                hashed.setIssuerFingerprint(false, pub);
                sg.setHashedSubpackets(hashed.generate());
                sg.generateOnePassVersion(false).encode(enc);
            }
            PGPLiteralDataGenerator ldg = new PGPLiteralDataGenerator();
            OutputStream lit = ldg.open(enc, PGPLiteralData.BINARY, "", new Date(), new byte[BUFFER]);
            return new SigningStream(lit, ldg, sg, enc, edg, armored, base);
        } catch (PGPException e) {
            throw new IOException("cannot start encryption", e);
        }
    }

    /** The newest encryption-capable subkey that is valid now (not revoked, not expired, properly bound). */
    static PGPPublicKey encryptionKey(OpenPGPCertificate c) throws KeyException {
        OpenPGPCertificate.OpenPGPComponentKey best = null;
        for (OpenPGPCertificate.OpenPGPComponentKey k : c.getEncryptionKeys(new Date())) {
            if (best == null || k.getCreationTime().after(best.getCreationTime())) {
                best = k;
            }
        }
        if (best == null) {
            throw new KeyException("no valid encryption key in " + Keyring.fingerprint(c)
                    + " (revoked, expired or unbound)");
        }
        return best.getPGPPublicKey();
    }

    /** Whether the newest self-signature with a Features subpacket announces SEIPDv2. */
    static boolean supportsSeipdV2(OpenPGPCertificate c) {
        PGPPublicKey primary = c.getPrimaryKey().getPGPPublicKey();
        long own = primary.getKeyID();
        Features newest = null;
        Date newestTime = null;
        for (Iterator<PGPSignature> it = primary.getSignatures(); it.hasNext(); ) {
            PGPSignature s = it.next();
            if (s.getKeyID() != own || s.getHashedSubPackets() == null) {
                continue;
            }
            Features f = s.getHashedSubPackets().getFeatures();
            if (f != null && (newestTime == null || s.getCreationTime().after(newestTime))) {
                newest = f;
                newestTime = s.getCreationTime();
            }
        }
        return newest != null && newest.supportsSEIPDv2();
    }

    /** Feeds the literal data stream and the signature hash; closing finishes every layer in order. */
    private static final class SigningStream extends OutputStream {
        private final OutputStream literal;
        private final PGPLiteralDataGenerator ldg;
        private final PGPSignatureGenerator sg;
        private final OutputStream enc;
        private final PGPEncryptedDataGenerator edg;
        private final ArmoredOutputStream armored;
        private final OutputStream base;
        private boolean closed;

        SigningStream(OutputStream literal, PGPLiteralDataGenerator ldg, PGPSignatureGenerator sg, OutputStream enc,
                      PGPEncryptedDataGenerator edg, ArmoredOutputStream armored, OutputStream base) {
            this.literal = literal;
            this.ldg = ldg;
            this.sg = sg;
            this.enc = enc;
            this.edg = edg;
            this.armored = armored;
            this.base = base;
        }

        @Override
        public void write(int b) throws IOException {
            literal.write(b);
            if (sg != null) {
                sg.update((byte) b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            literal.write(b, off, len);
            if (sg != null) {
                sg.update(b, off, len);
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            ldg.close();
            if (sg != null) {
                try {
                    sg.generate().encode(enc);
                } catch (PGPException e) {
                    throw new IOException("signing failed", e);
                }
            }
            edg.close();
            if (armored != null) {
                armored.close();
            }
            base.close();
        }
    }
}
