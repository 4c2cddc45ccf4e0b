package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.SymmetricKeyAlgorithmTags;
import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.operator.PGPDataEncryptor;
import org.bouncycastle.openpgp.operator.PGPDataEncryptorBuilder;
import org.bouncycastle.openpgp.operator.PGPDigestCalculator;
import org.bouncycastle.openpgp.operator.jcajce.JcePGPDataEncryptorBuilder;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Version 1 SEIPD (AES-256 in CFB with a modification detection code, RFC 9580 §5.13.1) for Bouncy Castle's
 * {@code PGPEncryptedDataGenerator}, with the bulk cipher in {@link Cfb128OutputStream}. Everything else (the MDC's
 * SHA-1 through the JDK, the session key) comes from Bouncy Castle's JCA builder. It cannot be switched to the
 * unprotected SED packet or to AEAD: those would be a different, unreviewed path (fail closed, SECURITY.md).
 */
final class Seipd1EncryptorBuilder implements PGPDataEncryptorBuilder {
    private static final int ALGORITHM = SymmetricKeyAlgorithmTags.AES_256;
    private final JcePGPDataEncryptorBuilder jce;

    Seipd1EncryptorBuilder(SecureRandom random) {
        // default JCA lookup for the integrity calculator: the SUN provider's SHA-1, on the CPU's SHA instructions
        this.jce = new JcePGPDataEncryptorBuilder(ALGORITHM).setWithIntegrityPacket(true).setSecureRandom(random);
    }

    @Override
    public int getAlgorithm() {
        return ALGORITHM;
    }

    @Override
    public int getAeadAlgorithm() {
        return jce.getAeadAlgorithm();
    }

    @Override
    public int getChunkSize() {
        return jce.getChunkSize();
    }

    @Override
    public boolean isV5StyleAEAD() {
        return false;
    }

    @Override
    public SecureRandom getSecureRandom() {
        return jce.getSecureRandom();
    }

    @Override
    public PGPDataEncryptor build(byte[] keyBytes) throws PGPException {
        PGPDigestCalculator mdc = jce.build(keyBytes).getIntegrityCalculator();
        if (mdc == null) {
            throw new PGPException("no modification detection code");
        }
        byte[] key = keyBytes.clone();
        return new PGPDataEncryptor() {
            @Override
            public OutputStream getOutputStream(OutputStream out) {
                try {
                    return new Cfb128OutputStream(out, key);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } finally {
                    Arrays.fill(key, (byte) 0);
                }
            }

            @Override
            public PGPDigestCalculator getIntegrityCalculator() {
                return mdc;
            }

            @Override
            public int getBlockSize() {
                return 16;
            }
        };
    }

    @Override
    public PGPDataEncryptor build(byte[] keyBytes, byte[] ivOrSalt) throws PGPException {
        throw new PGPException("AEAD is not built here");
    }

    @Override
    public PGPDataEncryptorBuilder setWithIntegrityPacket(boolean integrity) {
        if (!integrity) {
            throw new IllegalArgumentException("encryption without an integrity check is never produced");
        }
        return this;
    }

    @Override
    public PGPDataEncryptorBuilder setWithAEAD(int aeadAlgorithm, int chunkSize) {
        throw new UnsupportedOperationException("AEAD is not built here");
    }

    @Override
    public PGPDataEncryptorBuilder setUseV5AEAD() {
        throw new UnsupportedOperationException("AEAD is not built here");
    }

    @Override
    public PGPDataEncryptorBuilder setUseV6AEAD() {
        throw new UnsupportedOperationException("AEAD is not built here");
    }
}
