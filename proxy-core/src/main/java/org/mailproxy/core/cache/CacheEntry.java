package org.mailproxy.core.cache;

import javax.crypto.AEADBadTagException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One cached message, opened: its size and metadata are authenticated already; content is decrypted chunk by chunk
 * as streams read it. Holds the file open, so it stays readable if the entry is replaced, removed or evicted
 * meanwhile; close it after its streams. Streams may be read from several threads at once (one stream per thread).
 */
public final class CacheEntry implements Closeable {
    private final MessageCache cache;
    private final Path file;
    private final Object fileKey;
    private final FileChannel channel;
    private final EntryCipher cipher;
    private final long size;
    private final byte[] metadata;

    private CacheEntry(MessageCache cache, Path file, Object fileKey, FileChannel channel, EntryCipher cipher,
                       long size, byte[] metadata) {
        this.cache = cache;
        this.file = file;
        this.fileKey = fileKey;
        this.channel = channel;
        this.cipher = cipher;
        this.size = size;
        this.metadata = metadata;
    }

    /** Reads the header and trailer and authenticates the metadata, which also authenticates the content size. */
    static CacheEntry open(MessageCache cache, Path file, Object fileKey, FileChannel ch, EntryKey key,
                           byte[] dataKey, int maxMetadataBytes) throws IOException {
        long length = ch.size();
        long minimum = EntryCipher.HEADER + EntryCipher.TAG + EntryCipher.TAG + EntryCipher.TRAILER_LENGTH_FIELD;
        if (length < minimum) {
            throw new CorruptEntryException("cache entry too short");
        }
        ByteBuffer header = readFully(ch, 0, EntryCipher.HEADER);
        byte[] magic = new byte[EntryCipher.MAGIC.length];
        header.get(magic);
        if (!Arrays.equals(magic, EntryCipher.MAGIC)) {
            throw new CorruptEntryException("not a cache entry");
        }
        byte[] salt = new byte[EntryCipher.SALT];
        header.get(salt);
        int metadataLength = readFully(ch, length - EntryCipher.TRAILER_LENGTH_FIELD,
                EntryCipher.TRAILER_LENGTH_FIELD).getInt();
        if (metadataLength < 0 || metadataLength > maxMetadataBytes || metadataLength > length - minimum) {
            throw new CorruptEntryException("cache entry metadata length out of range");
        }
        long metadataOffset = length - EntryCipher.TRAILER_LENGTH_FIELD - metadataLength - EntryCipher.TAG;
        long size = EntryCipher.contentSize(metadataOffset - EntryCipher.HEADER);
        if (size < 0) {
            throw new CorruptEntryException("cache entry length matches no content size");
        }
        ByteBuffer sealed = readFully(ch, metadataOffset, metadataLength + EntryCipher.TAG);
        EntryCipher cipher = EntryCipher.forFile(dataKey, salt, key.identity());
        try {
            byte[] metadata = cipher.openMetadata(size, sealed.array());
            return new CacheEntry(cache, file, fileKey, ch, cipher, size, metadata);
        } catch (AEADBadTagException e) {
            throw corrupt("metadata", e);
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + buf.position());
            if (n < 0) {
                throw new CorruptEntryException("cache entry is shorter than its layout");
            }
        }
        return buf.flip();
    }

    private static CorruptEntryException corrupt(String what, AEADBadTagException cause) {
        return new CorruptEntryException("cache entry failed authentication: " + what, cause);
    }

    /** Octets of the message. */
    public long size() {
        return size;
    }

    /** The metadata blob stored with the message (a copy). */
    public byte[] metadata() {
        return metadata.clone();
    }

    /** The message from {@code offset} to the end. */
    public InputStream openStream(long offset) {
        return openStream(offset, Long.MAX_VALUE);
    }

    /**
     * At most {@code length} octets from {@code offset}; an offset past the end gives an empty stream, as an IMAP
     * partial fetch whose origin lies beyond the message does (RFC 3501 §6.4.5).
     *
     * @throws CorruptEntryException from the stream's reads, if a chunk fails authentication (the entry is removed)
     */
    public InputStream openStream(long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative offset or length");
        }
        long start = Math.min(offset, size);
        long end = start + Math.min(length, size - start);
        return new ChunkStream(start, end);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Decrypts the chunk under the read position, one at a time; skipping costs no decryption. */
    private final class ChunkStream extends InputStream {
        private final EntryCipher streamCipher = cipher.fresh();
        private final long end;
        private long position;
        private long loaded = -1;
        private int plainLength;
        private byte[] sealed;
        private byte[] plain;

        ChunkStream(long start, long end) {
            this.position = start;
            this.end = end;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (position >= end) {
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            long index = position / EntryCipher.CHUNK;
            if (index != loaded) {
                load(index);
            }
            int inChunk = (int) (position - index * EntryCipher.CHUNK);
            int n = (int) Math.min(Math.min(len, plainLength - inChunk), end - position);
            System.arraycopy(plain, inChunk, b, off, n);
            position += n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, end - position));
            position += k;
            return k;
        }

        @Override
        public int available() {
            return loaded == position / EntryCipher.CHUNK
                    ? (int) Math.min(plainLength - (position - loaded * EntryCipher.CHUNK), end - position) : 0;
        }

        private void load(long index) throws IOException {
            if (sealed == null) {
                sealed = new byte[EntryCipher.CHUNK + EntryCipher.TAG];
                plain = new byte[EntryCipher.CHUNK];
            }
            long last = EntryCipher.chunks(size) - 1;
            int length = (int) (index == last ? size - index * EntryCipher.CHUNK : EntryCipher.CHUNK)
                    + EntryCipher.TAG;
            ByteBuffer buf = ByteBuffer.wrap(sealed, 0, length);
            long at = EntryCipher.chunkOffset(index);
            while (buf.hasRemaining()) {
                if (channel.read(buf, at + buf.position()) < 0) {
                    throw failed(new CorruptEntryException("cache entry is shorter than its layout"));
                }
            }
            try {
                plainLength = streamCipher.openChunk(index, index == last, sealed, length, plain);
                loaded = index;
            } catch (AEADBadTagException e) {
                loaded = -1;
                throw failed(corrupt("chunk " + index, e));
            }
        }

        private CorruptEntryException failed(CorruptEntryException e) throws IOException {
            cache.discard(file, fileKey);
            return e;
        }
    }
}
