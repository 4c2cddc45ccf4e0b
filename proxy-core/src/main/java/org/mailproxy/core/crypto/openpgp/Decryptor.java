package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPCompressedData;
import org.bouncycastle.openpgp.PGPEncryptedData;
import org.bouncycastle.openpgp.PGPEncryptedDataList;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPLiteralData;
import org.bouncycastle.openpgp.PGPMarker;
import org.bouncycastle.openpgp.PGPObjectFactory;
import org.bouncycastle.openpgp.PGPOnePassSignature;
import org.bouncycastle.openpgp.PGPOnePassSignatureList;
import org.bouncycastle.openpgp.PGPPadding;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.PGPPublicKeyEncryptedData;
import org.bouncycastle.openpgp.PGPSessionKey;
import org.bouncycastle.openpgp.PGPSignature;
import org.bouncycastle.openpgp.PGPSignatureList;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.operator.PublicKeyDataDecryptorFactory;
import org.bouncycastle.openpgp.operator.jcajce.JcePublicKeyDataDecryptorFactoryBuilder;
import org.bouncycastle.util.encoders.Hex;
import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Decrypts and verifies one OpenPGP message (binary or armored) into a {@link Spool}, failing closed:
 * <ul>
 * <li>an SED packet (no integrity protection) is refused before any decryption (SECURITY.md 1, EFAIL);</li>
 * <li>the plaintext is only handed out after the MDC or every AEAD tag checked, so truncation, a stripped MDC and a
 *     bad tag fail (SECURITY.md 1, 2; RFC 9580 §5.13, §13.7);</li>
 * <li>at most {@link OpenPgpLimits#maxCompressionLayers()} compression layer and one size budget for everything
 *     decompressed, at most {@link OpenPgpLimits#maxPackets()} packets, armor lines capped, CRC24 ignored
 *     (SECURITY.md 5, 6; RFC 9580 §6.1);</li>
 * <li>every failure is the same {@link DecryptionFailedException} (SECURITY.md 3).</li>
 * </ul>
 * A message none of whose recipients is ours gives {@link DecryptionResult#forUs()} false, not a failure.
 */
public final class Decryptor {
    private final Keyring keyring;
    private final List<UnlockedKey> keys;
    private final OpenPgpLimits limits;
    private final Path spoolDir;

    public Decryptor(Keyring keyring, List<UnlockedKey> keys, OpenPgpLimits limits, Path spoolDir) {
        this.keyring = keyring;
        this.keys = List.copyOf(keys);
        this.limits = limits;
        this.spoolDir = spoolDir;
    }

    public DecryptionResult decrypt(InputStream ciphertext) throws DecryptionFailedException {
        Spool spool = null;
        try {
            InputStream in = decode(ciphertext);
            PGPObjectFactory outer = new PGPObjectFactory(in, Providers.FINGERPRINTS);
            Object first = outer.nextObject();
            int markers = 0;
            while (first instanceof PGPMarker || first instanceof PGPPadding) {
                if (++markers > limits.maxPackets()) {
                    throw new DecryptionFailedException("limit");
                }
                first = outer.nextObject();
            }
            if (!(first instanceof PGPEncryptedDataList list)) {
                throw new DecryptionFailedException("not-encrypted");
            }
            if (list.size() > limits.maxRecipients()) {
                throw new DecryptionFailedException("limit");
            }
            List<String> recipients = new ArrayList<>();
            PGPPublicKeyEncryptedData chosen = null;
            PGPPrivateKey chosenKey = null;
            for (PGPEncryptedData ed : list) {
                if (!ed.isIntegrityProtected()) {
                    throw new DecryptionFailedException("sed-packet");
                }
                if (!(ed instanceof PGPPublicKeyEncryptedData pk)) {
                    continue; // password-encrypted session keys are not for a mail proxy
                }
                long keyId = pk.getKeyIdentifier().getKeyId();
                recipients.add(keyIdHex(keyId));
                if (chosen == null) {
                    PGPPrivateKey priv = privateKey(keyId);
                    if (priv != null) {
                        chosen = pk;
                        chosenKey = priv;
                    }
                }
            }
            if (list.isEmpty() || !list.get(0).isIntegrityProtected()) {
                throw new DecryptionFailedException("sed-packet");
            }
            if (chosen == null) {
                chosen = tryAnonymous(list);
                if (chosen == null) {
                    return DecryptionResult.notForUs(recipients);
                }
                chosenKey = anonymousKey;
            }
            PublicKeyDataDecryptorFactory factory = new JcePublicKeyDataDecryptorFactoryBuilder()
                    .setProvider(Providers.BC)
                    .setContentProvider(chosen.isAEAD() ? Providers.BC : Providers.jdkCipher())
                    .build(chosenKey);
            InputStream clear;
            Seipd1InputStream fast = null;
            PGPSessionKey sessionKey = chosen.isAEAD() ? null : chosen.getSessionKey(factory);
            if (sessionKey != null && isAes(sessionKey.getAlgorithm())) {
                // SEIPDv1 with AES: our own loop over the JDK's AES, several times faster than the generic path
                fast = new Seipd1InputStream(chosen.getInputStream(), sessionKey.getKey());
                clear = fast;
            } else {
                clear = chosen.getDataStream(factory);
            }
            spool = new Spool(limits.spoolMemoryThreshold(), limits.maxPlaintextBytes(), spoolDir);
            Inner inner = new Inner(spool);
            inner.process(new PGPObjectFactory(clear, Providers.FINGERPRINTS), 0);
            if (!inner.sawLiteral) {
                throw new DecryptionFailedException("no-literal");
            }
            // the whole SEIPD body must be consumed before its MDC / last AEAD tag can be checked
            if (clear.read() != -1) {
                throw new DecryptionFailedException("trailing-data");
            }
            if (fast != null ? !fast.verified() : !chosen.verify()) {
                throw new DecryptionFailedException("integrity");
            }
            String keyId = keyIdHex(chosen.getKeyIdentifier().getKeyId());
            if (chosen.getKeyIdentifier().isWildcard()) {
                keyId = keyIdHex(anonymousKey.getKeyID());
            }
            DecryptionResult r = new DecryptionResult(true, recipients, keyId, chosen.isAEAD(),
                    inner.results, spool);
            spool = null;
            return r;
        } catch (DecryptionFailedException e) {
            closeQuietly(spool);
            throw e;
        } catch (LimitedInputStream.LimitExceededException | org.mailproxy.core.crypto.openpgp.spool.SpoolOverflowException e) {
            closeQuietly(spool);
            throw new DecryptionFailedException("limit", e);
        } catch (IOException | PGPException | RuntimeException e) {
            closeQuietly(spool);
            throw new DecryptionFailedException("malformed", e);
        }
    }

    private PGPPrivateKey anonymousKey;

    private static boolean isAes(int algorithm) {
        return algorithm == SymmetricKeyAlgorithmTags.AES_128 || algorithm == SymmetricKeyAlgorithmTags.AES_192
                || algorithm == SymmetricKeyAlgorithmTags.AES_256;
    }

    /** Anonymous recipients (wildcard key ID, RFC 9580 §5.1): try each of our keys. */
    private PGPPublicKeyEncryptedData tryAnonymous(PGPEncryptedDataList list) {
        for (PGPEncryptedData ed : list) {
            if (ed instanceof PGPPublicKeyEncryptedData pk && pk.getKeyIdentifier().isWildcard()) {
                for (UnlockedKey u : keys) {
                    for (OpenPGPCertificate.OpenPGPComponentKey k : u.certificate().getKeys()) {
                        PGPPrivateKey priv = u.privateKey(k.getKeyIdentifier().getKeyId());
                        if (priv == null || !k.getPGPPublicKey().isEncryptionKey()) {
                            continue;
                        }
                        try {
                            pk.getSessionKey(new JcePublicKeyDataDecryptorFactoryBuilder()
                                    .setProvider(Providers.BC).build(priv));
                            anonymousKey = priv;
                            return pk;
                        } catch (PGPException | RuntimeException ignored) {
                            // not this key
                        }
                    }
                }
            }
        }
        return null;
    }

    private PGPPrivateKey privateKey(long keyId) {
        for (UnlockedKey u : keys) {
            PGPPrivateKey p = u.privateKey(keyId);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    private InputStream decode(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(new NoAvailable(raw), 1 << 16);
        in.mark(8192);
        int b;
        int seen = 0;
        do {
            b = in.read();
            seen++;
        } while ((b == ' ' || b == '\t' || b == '\r' || b == '\n') && seen < 8000);
        in.reset();
        if (b < 0) {
            throw new IOException("empty input");
        }
        if ((b & 0x80) != 0) {
            return in;
        }
        InputStream lines = new LimitedInputStream(in, null, limits.maxArmorLineLength());
        // a wrong CRC24 alone does not reject (RFC 9580 §6.1); integrity comes from the MDC/AEAD
        return new ArmorInputStream(lines, limits.maxArmorLineLength());
    }

    /**
     * Reports nothing available. Bouncy Castle reads each packet body through a {@link BufferedInputStream}, which
     * asks {@code available()} after every short read; on a file that is two system calls (size and position) per
     * partial-length chunk, for a hint nothing here needs.
     */
    private static final class NoAvailable extends java.io.FilterInputStream {
        NoAvailable(InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in.read(b, off, len);
        }

        @Override
        public int available() {
            return 0;
        }
    }

    /** Walks the packets inside the encryption layer. */
    private final class Inner {
        private final Spool spool;
        private final LimitedInputStream.Budget budget = new LimitedInputStream.Budget(limits.maxPlaintextBytes());
        private final List<Pending> onePass = new ArrayList<>();
        private final List<Pending> prefix = new ArrayList<>();
        private final List<SignatureResult> results = new ArrayList<>();
        private int packets;
        private boolean sawLiteral;

        Inner(Spool spool) {
            this.spool = spool;
        }

        void process(PGPObjectFactory f, int depth) throws IOException, PGPException, DecryptionFailedException {
            Object o;
            while ((o = f.nextObject()) != null) {
                if (++packets > limits.maxPackets()) {
                    throw new DecryptionFailedException("limit");
                }
                if (o instanceof PGPCompressedData cd) {
                    if (depth >= limits.maxCompressionLayers() || sawLiteral) {
                        throw new DecryptionFailedException("limit");
                    }
                    process(new PGPObjectFactory(new LimitedInputStream(cd.getDataStream(), budget, 0),
                            Providers.FINGERPRINTS), depth + 1);
                } else if (o instanceof PGPOnePassSignatureList ops) {
                    if (sawLiteral) {
                        throw new DecryptionFailedException("malformed");
                    }
                    for (PGPOnePassSignature s : ops) {
                        onePass.add(initOnePass(s));
                    }
                } else if (o instanceof PGPSignatureList sigs) {
                    if (sawLiteral) {
                        finishOnePass(sigs);
                    } else {
                        for (PGPSignature s : sigs) {
                            prefix.add(initPrefix(s));
                        }
                    }
                } else if (o instanceof PGPLiteralData lit) {
                    if (sawLiteral) {
                        throw new DecryptionFailedException("two-literals");
                    }
                    sawLiteral = true;
                    copyLiteral(lit.getDataStream());
                    for (Pending p : prefix) {
                        results.add(p.result(p.signature != null && p.signature.verify()));
                    }
                    prefix.clear();
                } else if (o instanceof PGPMarker || o instanceof PGPPadding) {
                    // ignored (RFC 9580 §5.8, §5.15)
                } else {
                    throw new DecryptionFailedException("unexpected-packet");
                }
            }
            if (depth == 0 && !onePass.isEmpty()) {
                throw new DecryptionFailedException("missing-signature");
            }
        }

        private void copyLiteral(InputStream data) throws IOException {
            boolean signed = onePass.stream().anyMatch(p -> p.ops != null) || prefix.stream().anyMatch(p -> p.signature != null);
            try (OutputStream out = spool.output();
                 HashFeed hashes = new HashFeed(this::updateSignatures, signed ? HashFeed.PIPELINE_AFTER : Long.MAX_VALUE)) {
                // whole buffers: one spool write and one hash call per buffer, not per partial-length chunk
                while (true) {
                    byte[] buf = hashes.buffer();
                    int n = data.readNBytes(buf, 0, buf.length);
                    if (n <= 0) {
                        break;
                    }
                    out.write(buf, 0, n);
                    hashes.hash(buf, n);
                }
                hashes.finish();
            }
        }

        private void updateSignatures(byte[] buf, int n) {
            for (Pending p : onePass) {
                if (p.ops != null) {
                    p.ops.update(buf, 0, n);
                }
            }
            for (Pending p : prefix) {
                if (p.signature != null) {
                    p.signature.update(buf, 0, n);
                }
            }
        }

        private void finishOnePass(PGPSignatureList sigs) throws PGPException {
            for (PGPSignature sig : sigs) {
                Pending match = null;
                for (Pending p : onePass) {
                    if (p.keyId == sig.getKeyID()) {
                        match = p;
                        break;
                    }
                }
                if (match == null) {
                    results.add(unknown(sig, SignatureResult.Status.BAD));
                    continue;
                }
                onePass.remove(match);
                match.signatureForResult = sig;
                boolean ok = match.ops != null && match.ops.verify(sig);
                results.add(match.result(ok));
            }
        }

        private Pending initOnePass(PGPOnePassSignature s) throws PGPException {
            long keyId = s.getKeyIdentifier().getKeyId();
            Pending p = new Pending(keyId);
            OpenPGPCertificate cert = keyring.certificateForKeyId(keyId);
            if (cert != null) {
                OpenPGPCertificate.OpenPGPComponentKey k = componentKey(cert, keyId);
                s.init(verifiers(), k.getPGPPublicKey());
                p.ops = s;
                p.cert = cert;
                p.key = k;
            }
            return p;
        }

        private Pending initPrefix(PGPSignature s) throws PGPException {
            long keyId = s.getKeyID();
            Pending p = new Pending(keyId);
            p.signatureForResult = s;
            OpenPGPCertificate cert = keyring.certificateForKeyId(keyId);
            if (cert != null) {
                OpenPGPCertificate.OpenPGPComponentKey k = componentKey(cert, keyId);
                s.init(verifiers(), k.getPGPPublicKey());
                p.signature = s;
                p.cert = cert;
                p.key = k;
            }
            return p;
        }
    }

    /** JDK SHA for the data, Bouncy Castle's Ed25519 for the signature, the JCA for the rest ({@link Verifiers}). */
    private static Verifiers verifiers() {
        return new Verifiers();
    }

    private static OpenPGPCertificate.OpenPGPComponentKey componentKey(OpenPGPCertificate cert, long keyId) {
        for (OpenPGPCertificate.OpenPGPComponentKey k : cert.getKeys()) {
            if (k.getKeyIdentifier().getKeyId() == keyId) {
                return k;
            }
        }
        throw new IllegalStateException("key vanished");
    }

    /** One signature being verified while the literal data streams. */
    private static final class Pending {
        final long keyId;
        PGPOnePassSignature ops;
        PGPSignature signature;
        PGPSignature signatureForResult;
        OpenPGPCertificate cert;
        OpenPGPCertificate.OpenPGPComponentKey key;

        Pending(long keyId) {
            this.keyId = keyId;
        }

        SignatureResult result(boolean cryptoOk) {
            PGPSignature sig = signatureForResult;
            if (cert == null) {
                return unknown(sig, SignatureResult.Status.UNKNOWN_KEY);
            }
            boolean typeOk = sig != null && (sig.getSignatureType() == PGPSignature.BINARY_DOCUMENT
                    || sig.getSignatureType() == PGPSignature.CANONICAL_TEXT_DOCUMENT);
            // the key must have been a valid signing key when it signed (not revoked, expired or unbound)
            boolean keyOk = sig != null && key.isSigningKey(sig.getCreationTime());
            SignatureResult.Status status = cryptoOk && typeOk && keyOk
                    ? SignatureResult.Status.VALID : SignatureResult.Status.BAD;
            return new SignatureResult(status, keyIdHex(keyId), Optional.of(Keyring.fingerprint(cert)),
                    cert.getValidUserIds().stream().map(OpenPGPCertificate.OpenPGPUserId::getUserId).toList(),
                    Optional.ofNullable(sig).map(s -> s.getCreationTime().toInstant()), false);
        }
    }

    private static SignatureResult unknown(PGPSignature sig, SignatureResult.Status status) {
        Optional<String> fpr = Optional.empty();
        if (sig != null && sig.getHashedSubPackets() != null
                && sig.getHashedSubPackets().getIssuerFingerprint() != null) {
            fpr = Optional.of(Hex.toHexString(sig.getHashedSubPackets().getIssuerFingerprint().getFingerprint())
                    .toUpperCase(Locale.ROOT));
        }
        return new SignatureResult(status, keyIdHex(sig == null ? 0 : sig.getKeyID()), fpr, List.of(),
                Optional.ofNullable(sig).map(s -> s.getCreationTime().toInstant()), false);
    }

    static String keyIdHex(long keyId) {
        return String.format(Locale.ROOT, "%016X", keyId);
    }

    private static void closeQuietly(Spool s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // best effort: the spool file is deleted on close
            }
        }
    }
}
