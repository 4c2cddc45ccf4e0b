package org.mailproxy.core.crypto.openpgp;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * Decrypts the body of a version 1 SEIPD packet (RFC 9580 §5.13.1) with AES through the JDK, 64 KiB at a time, and
 * checks its MDC: SHA-1 over the random prefix, the plaintext and the two header octets of the MDC packet, which
 * must be the last 22 plaintext octets. Bytes are released as they are decrypted (the caller spools them and only
 * publishes after {@link #verified()}); the end of the stream is reported only after the MDC matched, otherwise
 * reading throws. The quick-check octets are not looked at: they would only add an oracle (RFC 9580 §5.13.2).
 */
final class Seipd1InputStream extends InputStream {
    private static final int MDC_LENGTH = 22;
    private static final int CHUNK = 1 << 16;

    private final InputStream in;
    private final Cipher cipher;
    private final MessageDigest sha1;
    private final byte[] cipherBuf = new byte[CHUNK];
    private byte[] plain = new byte[CHUNK + MDC_LENGTH + 32];
    private int pos;
    private int releasable;
    private int filled;
    private boolean eof;
    private boolean verified;
    private int prefixLeft = 18;

    Seipd1InputStream(InputStream ciphertext, byte[] key) throws IOException {
        this.in = ciphertext;
        try {
            cipher = Cipher.getInstance("AES/CFB/NoPadding", Providers.jdkCipher());
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (GeneralSecurityException e) {
            throw new IOException("AES/CFB unavailable", e);
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
            int skip = (int) Math.min(prefixLeft, releasable - pos);
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
        int n = in.read(cipherBuf, 0, CHUNK);
        try {
            if (n < 0) {
                byte[] last = cipher.doFinal();
                ensure(filled + last.length);
                System.arraycopy(last, 0, plain, filled, last.length);
                filled += last.length;
                finish();
                return;
            }
            ensure(filled + n + 16);
            filled += cipher.update(cipherBuf, 0, n, plain, filled);
        } catch (GeneralSecurityException e) {
            throw new IOException("decryption failed", e);
        }
        releasable = Math.max(0, filled - MDC_LENGTH);
        sha1.update(plain, 0, releasable);
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
        byte[] actual = java.util.Arrays.copyOfRange(plain, mdc + 2, mdc + MDC_LENGTH);
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new IOException("modification detected");
        }
        verified = true;
    }

    private void ensure(int size) {
        if (plain.length < size) {
            plain = java.util.Arrays.copyOf(plain, size);
        }
    }
}
