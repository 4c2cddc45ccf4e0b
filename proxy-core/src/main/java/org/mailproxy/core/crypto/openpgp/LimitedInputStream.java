package org.mailproxy.core.crypto.openpgp;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Counts bytes against a budget shared by every stream that holds the same {@link Budget}: all decompression layers
 * of one message draw on one budget (SECURITY.md 5, RFC 9580 §13.14). Optionally also fails on a line longer than
 * {@code maxLine} (armor, SECURITY.md 6).
 */
final class LimitedInputStream extends FilterInputStream {

    /** Mutable remaining byte count. */
    static final class Budget {
        private long remaining;

        Budget(long bytes) {
            this.remaining = bytes;
        }

        void take(long n) throws IOException {
            remaining -= n;
            if (remaining < 0) {
                throw new LimitExceededException("size budget exhausted");
            }
        }
    }

    /** A limit was hit; mapped to the single decryption failure. */
    static final class LimitExceededException extends IOException {
        LimitExceededException(String message) {
            super(message);
        }
    }

    private final Budget budget;
    private final int maxLine;
    private int lineLength;

    LimitedInputStream(InputStream in, Budget budget, int maxLine) {
        super(in);
        this.budget = budget;
        this.maxLine = maxLine;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            account(new byte[]{(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            account(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 8192)];
        int r = read(buf, 0, buf.length);
        return Math.max(r, 0);
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    private void account(byte[] b, int off, int n) throws IOException {
        if (budget != null) {
            budget.take(n);
        }
        if (maxLine > 0) {
            for (int i = off; i < off + n; i++) {
                if (b[i] == '\n') {
                    lineLength = 0;
                } else if (++lineLength > maxLine) {
                    throw new LimitExceededException("line longer than " + maxLine);
                }
            }
        }
    }
}
