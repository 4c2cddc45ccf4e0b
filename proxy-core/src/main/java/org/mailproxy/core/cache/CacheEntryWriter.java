package org.mailproxy.core.cache;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;

/**
 * Streams one message into a temp file, sealing each 64 KiB chunk as it fills (memory stays at two chunk buffers
 * whatever the message size). The entry appears only on {@link #commit(byte[])}. {@link #close()} without a commit
 * discards everything: a fetch that failed half way in a try-with-resources block must not leave a truncated
 * message that looks complete. Not thread-safe: one writer per thread.
 */
public final class CacheEntryWriter extends OutputStream {
    private final MessageCache cache;
    private final EntryKey key;
    private final Path tmp;
    private final EntryCipher cipher;
    private final long maxFileBytes;
    private final int maxMetadataBytes;
    private final FileChannel out;
    private final byte[] plain = new byte[EntryCipher.CHUNK];
    private final byte[] sealed = new byte[EntryCipher.CHUNK + EntryCipher.TAG];
    private int fill;
    private long index;
    private long fileBytes;
    private boolean done;

    CacheEntryWriter(MessageCache cache, EntryKey key, Path tmp, byte[] dataKey, long maxFileBytes,
                     int maxMetadataBytes) throws IOException {
        this.cache = cache;
        this.key = key;
        this.tmp = tmp;
        this.maxFileBytes = maxFileBytes;
        this.maxMetadataBytes = maxMetadataBytes;
        byte[] salt = MessageCache.randomBytes(EntryCipher.SALT);
        this.cipher = EntryCipher.forFile(dataKey, salt, key.identity());
        this.out = FileChannel.open(tmp, StandardOpenOption.WRITE);
        try {
            put(ByteBuffer.allocate(EntryCipher.HEADER).put(EntryCipher.MAGIC).put(salt).flip());
        } catch (IOException e) {
            abort();
            throw e;
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (done) {
            throw new IOException("cache entry writer is closed");
        }
        try {
            while (len > 0) {
                if (fill == plain.length) {
                    // more is coming, so this chunk is not the last one
                    seal(false);
                }
                int n = Math.min(len, plain.length - fill);
                System.arraycopy(b, off, plain, fill, n);
                fill += n;
                off += n;
                len -= n;
            }
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        }
    }

    /**
     * Seals the last chunk and the metadata and publishes the entry, replacing any entry of the same key. If the
     * mailbox's UIDVALIDITY changed while this was written, the entry is silently dropped.
     *
     * @param metadata opaque bytes stored with the message, at most the cache's metadata limit
     * @throws IOException the entry is too large for the cache or the disk failed; nothing was published
     */
    public void commit(byte[] metadata) throws IOException {
        if (done) {
            throw new IOException("cache entry writer is closed");
        }
        try {
            if (metadata.length > maxMetadataBytes) {
                throw new IOException("cache entry metadata over " + maxMetadataBytes + " octets");
            }
            long size = index * EntryCipher.CHUNK + fill;
            seal(true);
            put(ByteBuffer.wrap(cipher.sealMetadata(size, metadata)));
            put(ByteBuffer.allocate(EntryCipher.TRAILER_LENGTH_FIELD).putInt(metadata.length).flip());
            out.close();
            done = true;
            cache.commit(key, tmp, fileBytes);
        } catch (IOException | RuntimeException e) {
            abort();
            throw e;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Discards the entry unless {@link #commit(byte[])} succeeded. */
    @Override
    public void close() throws IOException {
        if (!done) {
            abort();
        }
    }

    private void seal(boolean last) throws IOException {
        int n = cipher.sealChunk(index, last, plain, 0, fill, sealed);
        index++;
        fill = 0;
        put(ByteBuffer.wrap(sealed, 0, n));
    }

    private void put(ByteBuffer buf) throws IOException {
        fileBytes += buf.remaining();
        if (fileBytes > maxFileBytes) {
            throw new IOException("cache entry larger than the whole cache (" + maxFileBytes + " octets)");
        }
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    private void abort() throws IOException {
        done = true;
        try {
            out.close();
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
