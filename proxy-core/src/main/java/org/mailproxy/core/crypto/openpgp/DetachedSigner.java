package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.bouncycastle.bcpg.HashAlgorithmTags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPublicKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureGenerator;
import org.bouncycastle.openpgp.PGPSignatureSubpacketGenerator;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentSignerBuilder;

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
        OpenPGPCertificate.OpenPGPComponentKey sk = signer.signingKey();
        PGPPublicKey pub = sk.getPGPPublicKey();
        try {
            PGPSignatureGenerator sg = new PGPSignatureGenerator(new JcaPGPContentSignerBuilder(pub.getAlgorithm(),
                    HashAlgorithmTags.SHA256).setProvider(Providers.BC).setDigestProvider(Providers.jdkDigest())
                    .setSecureRandom(Providers.RANDOM), pub, pub.getVersion() == 6 ? 6 : 4);
            sg.init(PGPSignature.BINARY_DOCUMENT, signer.privateKey(sk.getKeyIdentifier().getKeyId()));
            PGPSignatureSubpacketGenerator hashed = new PGPSignatureSubpacketGenerator();
            hashed.setSignatureCreationTime(true, new Date());
            hashed.setIssuerFingerprint(false, pub);
            sg.setHashedSubpackets(hashed.generate());
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = data.read(buf)) > 0) {
                sg.update(buf, 0, n);
            }
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
