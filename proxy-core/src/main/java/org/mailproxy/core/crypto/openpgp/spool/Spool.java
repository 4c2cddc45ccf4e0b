package org.mailproxy.core.crypto.openpgp.spool;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import java.io.BufferedOutputStream;
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

    private final int memoryThreshold;
    private final long maxBytes;
    private final Path tempDir;
    private byte[] memory = new byte[0];
    private int memoryLength;
    private Path file;
    private AesCtr ctr;
    private OutputStream fileOut;
    private long fileLength;
    private final byte[] scratch = new byte[1 << 16];
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
        InputStream raw = Files.newInputStream(file);
        raw.skipNBytes(offset);
        return new CtrInputStream(raw, ctr, offset);
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
            file = tempDir == null
                    ? Files.createTempFile("mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                    : Files.createTempFile(tempDir, "mailproxy-spool", ".bin",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            fileOut = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.WRITE), 1 << 16);
            writeEncrypted(memory, 0, memoryLength);
            Arrays.fill(memory, (byte) 0);
            memory = new byte[0];
            memoryLength = 0;
        } catch (GeneralSecurityException e) {
            throw new IOException("spool cipher unavailable", e);
        }
    }

    private void writeEncrypted(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, scratch.length);
            System.arraycopy(b, off, scratch, 0, n);
            ctr.apply(scratch, 0, n, fileLength);
            fileOut.write(scratch, 0, n);
            fileLength += n;
            off += n;
            len -= n;
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

    /** Reads the file and removes the keystream by position, 64 KiB at a time. */
    private static final class CtrInputStream extends InputStream {
        private final InputStream in;
        private final AesCtr ctr;
        private long position;

        CtrInputStream(InputStream in, AesCtr ctr, long position) {
            this.in = in;
            this.ctr = ctr;
            this.position = position;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, Math.min(len, 1 << 16));
            if (n > 0) {
                ctr.apply(b, off, n, position);
                position += n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
