package org.mailproxy.core.crypto.openpgp;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * Encrypts with AES in 128-bit CFB mode and a zero IV (NIST SP 800-38A §6.3), as the body of a version 1 SEIPD
 * packet needs (RFC 9580 §5.13.1), through the JDK's AES/CBC.
 *
 * <p>CFB encryption is serial: {@code C[i] = P[i] XOR K[i]} with {@code K[i] = E(C[i-1])}. Substituting
 * {@code C[i-1] = P[i-1] XOR K[i-1]} gives {@code K[i] = E(P[i-1] XOR K[i-1])}: the keystream is exactly the AES/CBC
 * encryption (zero CBC IV) of the plaintext shifted one block later, with the CFB IV as its first block. The JDK
 * runs CBC encryption as one loop on the CPU's AES instructions, whereas its AES/CFB calls the block function and
 * copies once per 16 octets (about three quarters of the time of an encrypt+sign in a profile). The last, short
 * block is encrypted on {@link #close()}, which also closes the stream below.
 */
final class Cfb128OutputStream extends OutputStream {
    private static final int BLOCK = 16;
    private static final int CHUNK = 1 << 16;
    /** Octets per CBC call: the JDK's AES loop runs on the AES instructions once its callers are compiled. */
    private static final int CIPHER_STEP = 1 << 13;

    private final OutputStream out;
    private final Cipher cbc;
    /** {@code [0, 16)}: the previous plaintext block (the IV at first), then {@code pending} octets to encrypt. */
    private final byte[] plain = new byte[BLOCK + CHUNK];
    private int pending;
    /** The keystream, then the ciphertext, for {@code plain[i]} at {@code buf[i]}, so the XOR runs on equal indices. */
    private final byte[] buf = new byte[BLOCK + CHUNK];
    private boolean closed;

    Cfb128OutputStream(OutputStream out, byte[] key) throws IOException {
        this.out = out;
        try {
            cbc = Cipher.getInstance("AES/CBC/NoPadding", Providers.jdkCipher());
            cbc.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[BLOCK]));
        } catch (GeneralSecurityException e) {
            throw new IOException("AES unavailable", e);
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        while (len > 0) {
            int n = Math.min(len, CHUNK - pending);
            System.arraycopy(b, off, plain, BLOCK + pending, n);
            pending += n;
            off += n;
            len -= n;
            encryptWholeBlocks();
        }
    }

    private void encryptWholeBlocks() throws IOException {
        int whole = pending & -BLOCK;
        if (whole == 0) {
            return;
        }
        try {
            // CBC over [previous plaintext block, these blocks but the last] yields these blocks' keystream
            for (int done = 0; done < whole; done += CIPHER_STEP) {
                int step = Math.min(whole - done, CIPHER_STEP);
                cbc.update(plain, done, step, buf, BLOCK + done);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("encryption failed", e);
        }
        xor(buf, plain, BLOCK, BLOCK + whole);
        out.write(buf, BLOCK, whole);
        // the last whole plaintext block feeds the next step; the short remainder follows it
        System.arraycopy(plain, whole, plain, 0, BLOCK + pending - whole);
        pending -= whole;
    }

    /** Both arrays at the same index: C2 turns this loop into vector instructions. */
    private static void xor(byte[] dst, byte[] src, int from, int to) {
        for (int i = from; i < to; i++) {
            dst[i] ^= src[i];
        }
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (pending > 0) {
                // the short last block: its keystream is the next CBC output, truncated
                cbc.doFinal(plain, 0, BLOCK, buf, BLOCK);
                xor(buf, plain, BLOCK, BLOCK + pending);
                out.write(buf, BLOCK, pending);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("encryption failed", e);
        } finally {
            Arrays.fill(plain, (byte) 0);
            Arrays.fill(buf, (byte) 0);
        }
        out.close();
    }
}
