package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredInputStream;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.jcajce.JcaPGPContentVerifierBuilderProvider;
import org.bouncycastle.util.encoders.Hex;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Verifies a detached signature, as in {@code multipart/signed} (RFC 3156 §5): the signed part is hashed in its
 * canonical form, lines ending in CRLF (a bare LF is counted as CRLF, as the signer saw it before transport).
 * A signature that cannot be parsed or verified is {@link SignatureResult.Status#BAD}, never an exception.
 */
public final class DetachedVerifier {
    private static final int MAX_SIGNATURE_BYTES = 64 << 10;

    private final Keyring keyring;

    public DetachedVerifier(Keyring keyring) {
        this.keyring = keyring;
    }

    public SignatureResult verify(byte[] signature, InputStream signedData) throws IOException {
        PGPSignature sig;
        try {
            sig = parse(signature);
        } catch (IOException | PGPException | RuntimeException e) {
            return bad(null);
        }
        if (sig == null) {
            return bad(null);
        }
        long keyId = sig.getKeyID();
        OpenPGPCertificate cert = keyring.certificateForKeyId(keyId);
        if (cert == null) {
            Optional<String> fpr = Optional.empty();
            if (sig.getHashedSubPackets() != null && sig.getHashedSubPackets().getIssuerFingerprint() != null) {
                fpr = Optional.of(Hex.toHexString(sig.getHashedSubPackets().getIssuerFingerprint().getFingerprint())
                        .toUpperCase(Locale.ROOT));
            }
            signedData.transferTo(java.io.OutputStream.nullOutputStream());
            return new SignatureResult(SignatureResult.Status.UNKNOWN_KEY, Decryptor.keyIdHex(keyId), fpr,
                    List.of(), Optional.of(sig.getCreationTime().toInstant()), false);
        }
        OpenPGPCertificate.OpenPGPComponentKey key = null;
        for (OpenPGPCertificate.OpenPGPComponentKey k : cert.getKeys()) {
            if (k.getKeyIdentifier().getKeyId() == keyId) {
                key = k;
            }
        }
        boolean ok;
        try {
            sig.init(new JcaPGPContentVerifierBuilderProvider(), key.getPGPPublicKey());
            boolean binary = sig.getSignatureType() == PGPSignature.BINARY_DOCUMENT;
            byte[] buf = new byte[1 << 16];
            int last = -1;
            int n;
            while ((n = signedData.read(buf)) > 0) {
                if (!binary) {
                    sig.update(buf, 0, n); // text signatures are canonicalised by the signature itself
                    continue;
                }
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n' && (i > 0 ? buf[i - 1] : last) != '\r') {
                        sig.update(buf, start, i - start);
                        sig.update((byte) '\r');
                        start = i;
                    }
                }
                sig.update(buf, start, n - start);
                last = buf[n - 1];
            }
            ok = (binary || sig.getSignatureType() == PGPSignature.CANONICAL_TEXT_DOCUMENT)
                    && sig.verify() && key.isSigningKey(sig.getCreationTime());
        } catch (PGPException | RuntimeException e) {
            ok = false;
        }
        return new SignatureResult(ok ? SignatureResult.Status.VALID : SignatureResult.Status.BAD,
                Decryptor.keyIdHex(keyId), Optional.of(Keyring.fingerprint(cert)),
                cert.getValidUserIds().stream().map(OpenPGPCertificate.OpenPGPUserId::getUserId).toList(),
                Optional.of(sig.getCreationTime().toInstant()), false);
    }

    private static PGPSignature parse(byte[] signature) throws IOException, PGPException {
        if (signature.length > MAX_SIGNATURE_BYTES) {
            return null;
        }
        InputStream in = new ByteArrayInputStream(signature);
        int first = 0;
        while (first < signature.length && Character.isWhitespace(signature[first])) {
            first++;
        }
        if (first < signature.length && (signature[first] & 0x80) == 0) {
            in = ArmoredInputStream.builder().setIgnoreCRC(true).build(in);
        }
        Object o = new PGPObjectFactory(in, Providers.FINGERPRINTS).nextObject();
        if (o instanceof PGPSignatureList list && list.size() == 1) {
            return list.get(0);
        }
        return null;
    }

    private static SignatureResult bad(PGPSignature sig) {
        return new SignatureResult(SignatureResult.Status.BAD, Decryptor.keyIdHex(0), Optional.empty(), List.of(),
                Optional.empty(), false);
    }
}
