package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Date;

/**
 * Makes an armored detached binary signature for {@code multipart/signed} (RFC 3156 §5), over the data as given:
 * the caller passes the part already canonicalised to CRLF. {@code micalg} is {@value #MICALG}.
 */
public final class DetachedSigner {
    /** The micalg parameter matching the hash used here. */
    public static final String MICALG = "pgp-sha256";

    private DetachedSigner() {
    }

    public static byte[] sign(UnlockedKey signer, InputStream data) throws IOException, KeyException {
        Session session = start(signer);
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = data.read(buf)) > 0) {
            session.update(buf, 0, n);
        }
        return session.finish();
    }

    /** Starts a signature over data that arrives in pieces (a message streaming through). */
    public static Session start(UnlockedKey signer) throws IOException, KeyException {
        OpenPGPCertificate.OpenPGPComponentKey sk = signer.signingKey();
        PGPPublicKey pub = sk.getPGPPublicKey();
        try {
            PGPSignatureGenerator sg = new PGPSignatureGenerator(EdDsaContentSignerBuilder.forKey(pub), pub,
                    pub.getVersion() == 6 ? 6 : 4);
            sg.init(PGPSignature.BINARY_DOCUMENT, signer.privateKey(sk.getKeyIdentifier().getKeyId()));
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(true, new Date());
            hashed.setIssuerFingerprint(false, pub);
            sg.setHashedSubpackets(hashed.generate());
            return new Session(sg);
        } catch (PGPException e) {
            throw new IOException("signing failed", e);
        }
    }

    /** One signature in progress: feed the data, then {@link #finish()} once. */
    public static final class Session {
        private final PGPSignatureGenerator sg;

        private Session(PGPSignatureGenerator sg) {
            this.sg = sg;
        }

        public void update(byte[] b, int off, int len) {
            sg.update(b, off, len);
        }

        /** The armored signature. */
        public byte[] finish() throws IOException {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (ArmoredOutputStream a = ArmoredOutputStream.builder().clearHeaders().build(out)) {
                    sg.generate().encode(a);
                }
                return out.toByteArray();
            } catch (PGPException e) {
                throw new IOException("signing failed", e);
            }
        }
    }
}
