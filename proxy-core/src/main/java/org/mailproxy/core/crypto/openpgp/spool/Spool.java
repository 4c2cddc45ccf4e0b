package org.mailproxy.core.crypto.openpgp.spool;

import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * A bounded buffer for one message: bytes stay in memory up to {@code memoryThreshold}, then move to a temp file
 * encrypted with AES-CTR ({@link AesCtr}) under a random key that exists only in this object (SECURITY.md 25: decrypted mail is
 * never on disk in clear). Writing past {@code maxBytes} fails with {@link SpoolOverflowException}. {@link #close()}
 * deletes the file and drops the key.
 *
 * <p>One writer, then any number of readers: write everything through {@link #output()}, close it, then read with
 * {@link #openStream(long)} (CTR lets a reader start at any offset, for IMAP partial fetches). Not thread-safe.
 */
public final class Spool implements Closeable {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** File I/O unit: 256 KiB writes and reads need a quarter of the system calls of 64 KiB (about 25% faster). */
    private static final int CHUNK = 1 << 18;
    /**
     * Octets per cipher call. The JDK runs AES/CTR on the AES instructions only once the JIT has compiled its
     * callers, which takes thousands of calls: 8 KiB steps get there within the first tens of MB instead of the
     * first hundreds, and cost about 1% more per octet than 64 KiB steps once compiled.
     */
    private static final int CIPHER_STEP = 1 << 13;

    private final int memoryThreshold;
    private final long maxBytes;
    private final Path tempDir;
    private byte[] memory = new byte[0];
    private int memoryLength;
    private Path file;
    private AesCtr ctr;
    private Cipher writeCipher;
    private OutputStream fileOut;
    /** Ciphertext waiting to be written to the file: encrypted straight into here, written 256 KiB at a time. */
    private byte[] pending;
    private int pendingLength;
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
                    writePending();
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
        InputStream raw = Files.newInputStream(file);
        raw.skipNBytes(offset);
        return new CtrInputStream(raw, ctr.at(offset));
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
        ctr = null;
        writeCipher = null;
        pending = null;
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
            writeEncrypted(b, off, len);
        }
        size += len;
    }

    private void spill() throws IOException {
        try {
            KeyGenerator kg = KeyGenerator.getInstance("AES");
            kg.init(256, RANDOM);
            SecretKey key = kg.generateKey();
            ctr = new AesCtr(key, RANDOM.nextLong());
            writeCipher = ctr.at(0);
            pending = new byte[CHUNK];
            file = tempDir == null
                    ? Files.createTempFile("mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile(tempDir, "mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            fileOut = Files.newOutputStream(file, StandardOpenOption.WRITE);
            writeEncrypted(memory, 0, memoryLength);
            Arrays.fill(memory, (byte) 0);
            memory = new byte[0];
            memoryLength = 0;
        } catch (GeneralSecurityException e) {
            throw new IOException("spool cipher unavailable", e);
        }
    }

    private void writeEncrypted(byte[] b, int off, int len) throws IOException {
        try {
            while (len > 0) {
                int n = Math.min(Math.min(len, CHUNK - pendingLength), CIPHER_STEP);
                pendingLength += writeCipher.update(b, off, n, pending, pendingLength);
                off += n;
                len -= n;
                if (pendingLength == CHUNK) {
                    writePending();
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("spool cipher failed", e);
        }
    }

    private void writePending() throws IOException {
        fileOut.write(pending, 0, pendingLength);
        pendingLength = 0;
    }

    private void seal() throws IOException {
        if (sealed) {
            return;
        }
        sealed = true;
        if (fileOut != null) {
            writePending();
            fileOut.close();
            fileOut = null;
        }
    }

    /**
     * Reads the file 256 KiB at a time whatever the caller asks for (one system call per chunk, not per 8 KiB
     * {@code transferTo} step) and removes the keystream in place.
     */
    private static final class CtrInputStream extends InputStream {
        private final InputStream in;
        private final Cipher cipher;
        private final byte[] buf = new byte[CHUNK];
        private int pos;
        private int limit;

        CtrInputStream(InputStream in, Cipher cipher) {
            this.in = in;
            this.cipher = cipher;
        }

        @Override
        public int read() throws IOException {
            if (pos == limit && !fill()) {
                return -1;
            }
            return buf[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (pos == limit) {
                if (len >= CHUNK) {
                    // large reads go straight into the caller's array
                    int n = in.read(b, off, len);
                    if (n > 0) {
                        decrypt(b, off, n);
                    }
                    return n;
                }
                if (!fill()) {
                    return -1;
                }
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public long transferTo(OutputStream out) throws IOException {
            long total = 0;
            while (pos < limit || fill()) {
                out.write(buf, pos, limit - pos);
                total += limit - pos;
                pos = limit;
            }
            return total;
        }

        private boolean fill() throws IOException {
            int n = in.readNBytes(buf, 0, CHUNK);
            pos = 0;
            limit = n;
            if (n > 0) {
                decrypt(buf, 0, n);
            }
            return n > 0;
        }

        private void decrypt(byte[] b, int off, int n) throws IOException {
            try {
                for (int done = 0; done < n; ) {
                    int step = Math.min(n - done, CIPHER_STEP);
                    if (cipher.update(b, off + done, step, b, off + done) != step) {
                        throw new IOException("spool cipher returned a short count");
                    }
                    done += step;
                }
            } catch (GeneralSecurityException e) {
                throw new IOException("spool cipher failed", e);
            }
        }

        @Override
        public void close() throws IOException {
            // the buffer holds decrypted octets
            Arrays.fill(buf, (byte) 0);
            pos = 0;
            limit = 0;
            in.close();
        }
    }
}
