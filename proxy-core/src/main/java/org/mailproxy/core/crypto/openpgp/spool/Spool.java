package org.mailproxy.core.crypto.openpgp.spool;

import javax.crypto.Cipher;
import javax.crypto.ShortBufferException;
import javax.crypto.CipherOutputStream;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A bounded buffer for one message: bytes stay in memory up to {@code memoryThreshold}, then move to a temp file
 * encrypted with AES-CTR under a random key that exists only in this object (SECURITY.md 25: decrypted mail is
 * never on disk in clear). Writing past {@code maxBytes} fails with {@link SpoolOverflowException}. {@link #close()}
 * deletes the file and drops the key.
 *
 * <p>One writer, then any number of readers: write everything through {@link #output()}, close it, then read with
 * {@link #openStream(long)} (CTR lets a reader start at any offset, for IMAP partial fetches). Not thread-safe.
 */
public final class Spool implements Closeable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final BigInteger TWO_128 = BigInteger.ONE.shiftLeft(128);

    private final int memoryThreshold;
    private final long maxBytes;
    private final Path tempDir;
    private byte[] memory = new byte[0];
    private int memoryLength;
    private Path file;
    private SecretKey key;
    private byte[] iv;
    private OutputStream fileOut;
    private long size;
    private boolean writing;
    private boolean sealed;
    private boolean closed;

    /**
     * @param memoryThreshold bytes kept in memory before moving to a file
     * @param maxBytes        hard cap on the content
     * @param tempDir         directory for the encrypted file, or null for the system temp directory
     */
    public Spool(int memoryThreshold, long maxBytes, Path tempDir) {
        if (memoryThreshold < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("negative limit");
        }
        this.memoryThreshold = memoryThreshold;
        this.maxBytes = maxBytes;
        this.tempDir = tempDir;
    }

    /** The single writer; closing it seals the spool for reading. */
    public OutputStream output() {
        if (writing || sealed || closed) {
            throw new IllegalStateException("spool output already opened");
        }
        writing = true;
        return new OutputStream() {
            private final byte[] one = new byte[1];

            @Override
            public void write(int b) throws IOException {
                one[0] = (byte) b;
                write(one, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                append(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                if (fileOut != null) {
                    fileOut.flush();
                }
            }

            @Override
            public void close() throws IOException {
                seal();
            }
        };
    }

    public long size() {
        return size;
    }

    /** Whether the content has moved to the encrypted file (for tests and metrics). */
    public boolean onDisk() {
        return file != null;
    }

    public InputStream openStream() throws IOException {
        return openStream(0);
    }

    /** A reader from byte {@code offset} to the end. */
    public InputStream openStream(long offset) throws IOException {
        if (!sealed || closed) {
            throw new IllegalStateException("spool is not readable");
        }
        if (offset < 0 || offset > size) {
            throw new IllegalArgumentException("offset outside the spool");
        }
        if (file == null) {
            return new ByteArrayInputStream(memory, (int) offset, memoryLength - (int) offset);
        }
        long block = offset / 16;
        int skip = (int) (offset % 16);
        InputStream raw = Files.newInputStream(file);
        try {
            raw.skipNBytes(block * 16);
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(counter(block)));
            InputStream in = new CtrInputStream(raw, c);
            in.skipNBytes(skip);
            return in;
        } catch (GeneralSecurityException e) {
            raw.close();
            throw new IOException("spool cipher unavailable", e);
        }
    }

    /** All content as one array; only for small spools (tests, headers). */
    public byte[] toByteArray() throws IOException {
        if (size > Integer.MAX_VALUE - 16) {
            throw new IOException("spool too large for an array");
        }
        try (InputStream in = openStream()) {
            return in.readAllBytes();
        }
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        Arrays.fill(memory, (byte) 0);
        memory = new byte[0];
        key = null;
        try {
            if (fileOut != null) {
                fileOut.close();
            }
        } finally {
            if (file != null) {
                Files.deleteIfExists(file);
            }
        }
    }

    private void append(byte[] b, int off, int len) throws IOException {
        if (sealed || closed) {
            throw new IOException("spool is closed for writing");
        }
        if (len > maxBytes - size) {
            throw new SpoolOverflowException(maxBytes);
        }
        if (file == null && memoryLength + (long) len <= memoryThreshold) {
            if (memoryLength + len > memory.length) {
                int cap = (int) Math.min(memoryThreshold, Math.max(memory.length * 2L, memoryLength + len + 4096L));
                memory = Arrays.copyOf(memory, cap);
            }
            System.arraycopy(b, off, memory, memoryLength, len);
            memoryLength += len;
        } else {
            if (file == null) {
                spill();
            }
            fileOut.write(b, off, len);
        }
        size += len;
    }

    private void spill() throws IOException {
        try {
            KeyGenerator kg = KeyGenerator.getInstance("AES");
            kg.init(256, RANDOM);
            key = kg.generateKey();
            iv = new byte[16];
            RANDOM.nextBytes(iv);
            // the counter's low 64 bits start at zero so that no realistic spool wraps the counter
            Arrays.fill(iv, 8, 16, (byte) 0);
            file = tempDir == null
                    ? Files.createTempFile("mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile(tempDir, "mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
            fileOut = new CipherOutputStream(new BufferedOutputStream(
                    Files.newOutputStream(file, StandardOpenOption.WRITE), 1 << 16), c);
            fileOut.write(memory, 0, memoryLength);
            Arrays.fill(memory, (byte) 0);
            memory = new byte[0];
            memoryLength = 0;
        } catch (GeneralSecurityException e) {
            throw new IOException("spool cipher unavailable", e);
        }
    }

    private void seal() throws IOException {
        if (sealed) {
            return;
        }
        sealed = true;
        if (fileOut != null) {
            fileOut.close();
            fileOut = null;
        }
    }

    private byte[] counter(long block) {
        BigInteger c = new BigInteger(1, iv).add(BigInteger.valueOf(block)).mod(TWO_128);
        byte[] raw = c.toByteArray();
        byte[] out = new byte[16];
        int n = Math.min(raw.length, 16);
        System.arraycopy(raw, raw.length - n, out, 16 - n, n);
        return out;
    }

    /**
     * Decrypts in 64 KiB steps, in place; {@code javax.crypto.CipherInputStream} works in 512-byte steps with an
     * allocation each, which costs more than the AES itself.
     */
    private static final class CtrInputStream extends InputStream {
        private final InputStream in;
        private final Cipher cipher;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int limit;

        CtrInputStream(InputStream in, Cipher cipher) {
            this.in = in;
            this.cipher = cipher;
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return buf[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        private boolean fill() throws IOException {
            if (pos < limit) {
                return true;
            }
            int n = in.read(buf, 0, buf.length);
            if (n <= 0) {
                return false;
            }
            try {
                // CTR is a stream mode: update() returns exactly as many bytes as it is given
                cipher.update(buf, 0, n, buf, 0);
            } catch (ShortBufferException e) {
                throw new IOException(e);
            }
            pos = 0;
            limit = n;
            return true;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
