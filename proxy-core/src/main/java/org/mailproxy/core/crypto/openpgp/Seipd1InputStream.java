package org.mailproxy.core.crypto.openpgp;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Decrypts the body of a version 1 SEIPD packet (RFC 9580 §5.13.1) with AES through the JDK, up to 64 KiB at a time,
 * and checks its MDC: SHA-1 over the random prefix, the plaintext and the two header octets of the MDC packet, which
 * must be the last 22 plaintext octets. Bytes are released as they are decrypted (the caller spools them and only
 * publishes after {@link #verified()}); the end of the stream is reported only after the MDC matched, otherwise
 * reading throws. The quick-check octets are not looked at: they would only add an oracle (RFC 9580 §5.13.2).
 *
 * <p>The body is plain CFB with a zero IV (RFC 9580 §5.13.1, NIST SP 800-38A §6.3). CFB decryption is parallel:
 * {@code P[i] = C[i] XOR E(C[i-1])} with {@code C[-1] = IV}, so each run of whole blocks is one AES/ECB encryption
 * of the ciphertext shifted by one block, then one XOR. The JDK runs ECB over a long array on the CPU's AES
 * instructions several blocks at once, while its AES/CFB calls the block function once per 16 octets.
 */
final class Seipd1InputStream extends InputStream {
    private static final int MDC_LENGTH = 22;
    private static final int BLOCK = 16;
    private static final int CHUNK = 1 << 16;
    /**
     * Octets per AES/ECB call: the JDK runs ECB on the AES instructions many blocks at once only after the JIT
     * compiled its callers, which takes thousands of calls; 8 KiB steps get there within the first tens of MB.
     */
    private static final int CIPHER_STEP = 1 << 13;

    private final InputStream in;
    private final Cipher ecb;
    private final MessageDigest sha1;
    /** {@code [0, 16)}: the previous ciphertext block (the IV at first), then {@code pending} octets not yet used. */
    private final byte[] cipherBuf = new byte[BLOCK + CHUNK];
    private int pending;
    /** AES output for {@code cipherBuf[i]} lands at {@code keystream[i]}, so the XOR runs on equal indices. */
    private final byte[] keystream = new byte[BLOCK + CHUNK];
    /** Decrypted octets: the held-back tail (possibly the MDC packet) of the last step, then this step. */
    private final byte[] plain = new byte[MDC_LENGTH + CHUNK + BLOCK];
    private int pos;
    private int releasable;
    private int filled;
    private boolean eof;
    private boolean verified;
    private int prefixLeft = 18;

    Seipd1InputStream(InputStream ciphertext, byte[] key) throws IOException {
        this.in = ciphertext;
        try {
            ecb = Cipher.getInstance("AES/ECB/NoPadding", Providers.jdkCipher());
            ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"));
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (GeneralSecurityException e) {
            throw new IOException("AES unavailable", e);
        }
    }

    boolean verified() {
        return verified;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos == releasable) {
            if (eof) {
                return -1;
            }
            fill();
            // the random prefix and its two repeated octets are hashed but never handed out
            int skip = Math.min(prefixLeft, releasable - pos);
            pos += skip;
            prefixLeft -= skip;
        }
        int n = Math.min(len, releasable - pos);
        System.arraycopy(plain, pos, b, off, n);
        pos += n;
        return n;
    }

    private void fill() throws IOException {
        // keep the unreleased tail (at most the MDC length) at the start of the buffer
        int tail = filled - releasable;
        System.arraycopy(plain, releasable, plain, 0, tail);
        pos = 0;
        releasable = 0;
        filled = tail;
        // whole chunks: fewer, longer AES and SHA-1 runs; a short count means the body ended
        int want = CHUNK - pending;
        int n = in.readNBytes(cipherBuf, BLOCK + pending, want);
        pending += n;
        boolean end = n < want;
        try {
            int whole = pending & -BLOCK;
            if (whole > 0) {
                // the keystream for these blocks is E(the ciphertext one block earlier)
                for (int done = 0; done < whole; done += CIPHER_STEP) {
                    int step = Math.min(whole - done, CIPHER_STEP);
                    ecb.update(cipherBuf, done, step, keystream, BLOCK + done);
                }
                // keystream[i] now lines up with its ciphertext octet cipherBuf[i]
                xor(keystream, cipherBuf, BLOCK, BLOCK + whole);
                System.arraycopy(keystream, BLOCK, plain, filled, whole);
                filled += whole;
                // the last whole ciphertext block becomes the next feedback; the short remainder follows it
                System.arraycopy(cipherBuf, whole, cipherBuf, 0, BLOCK + pending - whole);
                pending -= whole;
            }
            if (end) {
                if (pending > 0) {
                    // the last, short block: its keystream is E(previous ciphertext block), truncated
                    ecb.doFinal(cipherBuf, 0, BLOCK, keystream, BLOCK);
                    xor(keystream, cipherBuf, BLOCK, BLOCK + pending);
                    System.arraycopy(keystream, BLOCK, plain, filled, pending);
                    filled += pending;
                    pending = 0;
                }
                finish();
                return;
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("decryption failed", e);
        }
        releasable = Math.max(0, filled - MDC_LENGTH);
        sha1.update(plain, 0, releasable);
    }

    /**
     * Both arrays at the same index: C2 turns this loop into vector instructions, which it does not for two
     * different offsets (about 3x slower) nor for word-wise VarHandle access.
     */
    private static void xor(byte[] dst, byte[] src, int from, int to) {
        for (int i = from; i < to; i++) {
            dst[i] ^= src[i];
        }
    }

    private void finish() throws IOException {
        eof = true;
        if (filled < MDC_LENGTH || prefixLeft > filled - MDC_LENGTH) {
            throw new IOException("missing modification detection code");
        }
        int mdc = filled - MDC_LENGTH;
        releasable = mdc;
        sha1.update(plain, 0, mdc);
        if ((plain[mdc] & 0xff) != 0xD3 || (plain[mdc + 1] & 0xff) != 0x14) {
            throw new IOException("missing modification detection code");
        }
        sha1.update(plain, mdc, 2);
        byte[] expected = sha1.digest();
        byte[] actual = Arrays.copyOfRange(plain, mdc + 2, mdc + MDC_LENGTH);
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new IOException("modification detected");
        }
        verified = true;
    }
}
