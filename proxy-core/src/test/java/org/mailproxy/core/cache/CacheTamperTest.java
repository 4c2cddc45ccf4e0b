package org.mailproxy.core.cache;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.core.cache.CacheTestSupport.put;
import static org.mailproxy.core.cache.CacheTestSupport.random;

/**
 * Any change to an entry file is detected: flipped octets anywhere, truncation, extension, reordered chunks, a file
 * moved to another entry's name, an empty file left by a crash. The read fails with {@link CorruptEntryException}
 * and the entry is gone afterwards.
 */
class CacheTamperTest {
    private static final int CHUNK = EntryCipher.CHUNK;
    private static final int SEALED_CHUNK = CHUNK + EntryCipher.TAG;
    private static final byte[] CONTENT = random(11, 3 * CHUNK - 100);
    private static final byte[] METADATA = random(12, 40);

    @TempDir
    static Path root;
    static CacheTestSupport keys;

    @TempDir
    Path dir;
    MessageCache cache;
    Path file;

    @BeforeAll
    static void keys() throws Exception {
        keys = new CacheTestSupport(root);
    }

    @AfterEach
    void close() throws Exception {
        cache.close();
    }

    @BeforeEach
    void entry() throws Exception {
        cache = keys.open(dir);
        put(cache, "INBOX", 1, 1, CONTENT, METADATA, new java.util.Random(1));
        file = CacheTestSupport.entryFiles(dir).get(0);
        assertThat(Files.size(file)).isEqualTo(EntryCipher.HEADER + 3L * EntryCipher.TAG + CONTENT.length
                + METADATA.length + EntryCipher.TAG + EntryCipher.TRAILER_LENGTH_FIELD);
    }

    /** Offsets in the magic, the salt, the metadata and the trailer's length field: caught when opening. */
    @ParameterizedTest
    @ValueSource(ints = {0, 3, 4, 35, -1, -4, -5, -20, -30})
    void flippedOctetOutsideTheContentFailsTheOpen(int at) throws Exception {
        byte[] b = Files.readAllBytes(file);
        int i = at >= 0 ? at : b.length + at;
        b[i] ^= 0x01;
        Files.write(file, b);
        assertGetFailsAndEntryIsGone();
    }

    /** A flipped octet in a chunk is found when that chunk is read. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void flippedOctetInAChunkFailsTheRead(int chunk) throws Exception {
        byte[] b = Files.readAllBytes(file);
        b[EntryCipher.HEADER + chunk * SEALED_CHUNK + 100] ^= (byte) 0x80;
        Files.write(file, b);
        try (CacheEntry e = cache.get("INBOX", 1, 1).orElseThrow()) {
            // chunks before the damaged one still read fine: nothing unauthenticated is released
            try (InputStream in = e.openStream(0, (long) chunk * CHUNK)) {
                assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOf(CONTENT, chunk * CHUNK));
            }
            try (InputStream in = e.openStream(0)) {
                assertThatThrownBy(in::readAllBytes).isInstanceOf(CorruptEntryException.class);
            }
        }
        assertThat(cache.get("INBOX", 1, 1)).isEmpty();
        assertThat(CacheTestSupport.entryFiles(dir)).isEmpty();
        assertThat(cache.size()).isZero();
        assertThat(cache.totalBytes()).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 5, 100, SEALED_CHUNK})
    void truncatedFileFailsTheOpen(int cut) throws Exception {
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length - cut));
        assertGetFailsAndEntryIsGone();
    }

    @Test
    void lastChunkRemovedWithTheTrailerKeptFailsTheOpen() throws Exception {
        byte[] b = Files.readAllBytes(file);
        int contentEnd = EntryCipher.HEADER + 2 * SEALED_CHUNK + (CHUNK - 100 + EntryCipher.TAG);
        byte[] shorter = concat(Arrays.copyOf(b, EntryCipher.HEADER + 2 * SEALED_CHUNK),
                Arrays.copyOfRange(b, contentEnd, b.length));
        Files.write(file, shorter);
        assertGetFailsAndEntryIsGone();
    }

    @Test
    void chunkRepeatedToExtendTheFileFailsTheOpen() throws Exception {
        byte[] b = Files.readAllBytes(file);
        int split = EntryCipher.HEADER + SEALED_CHUNK;
        byte[] longer = concat(Arrays.copyOf(b, split),
                Arrays.copyOfRange(b, EntryCipher.HEADER, split), Arrays.copyOfRange(b, split, b.length));
        Files.write(file, longer);
        assertGetFailsAndEntryIsGone();
    }

    @Test
    void swappedChunksFailTheRead() throws Exception {
        byte[] b = Files.readAllBytes(file);
        byte[] first = Arrays.copyOfRange(b, EntryCipher.HEADER, EntryCipher.HEADER + SEALED_CHUNK);
        System.arraycopy(b, EntryCipher.HEADER + SEALED_CHUNK, b, EntryCipher.HEADER, SEALED_CHUNK);
        System.arraycopy(first, 0, b, EntryCipher.HEADER + SEALED_CHUNK, SEALED_CHUNK);
        Files.write(file, b);
        try (CacheEntry e = cache.get("INBOX", 1, 1).orElseThrow(); InputStream in = e.openStream(CHUNK + 5)) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(CorruptEntryException.class);
        }
        assertThat(cache.get("INBOX", 1, 1)).isEmpty();
    }

    @Test
    void fileMovedToAnotherEntrysNameFailsTheOpen() throws Exception {
        Path other = file.resolveSibling("1-2" + MessageCache.ENTRY_SUFFIX);
        Files.copy(file, other);
        assertThatThrownBy(() -> cache.get("INBOX", 1, 2)).isInstanceOf(CorruptEntryException.class);
        assertThat(Files.exists(other)).isFalse();
        // the original is untouched
        assertThat(CacheTestSupport.read(cache, "INBOX", 1, 1)).isEqualTo(CONTENT);
    }

    @Test
    void emptyFileLeftByACrashFailsTheOpen() throws Exception {
        Files.write(file, new byte[0]);
        assertGetFailsAndEntryIsGone();
    }

    private void assertGetFailsAndEntryIsGone() throws Exception {
        assertThatThrownBy(() -> cache.get("INBOX", 1, 1)).isInstanceOf(CorruptEntryException.class);
        assertThat(cache.get("INBOX", 1, 1)).isEmpty();
        assertThat(Files.exists(file)).isFalse();
        assertThat(cache.size()).isZero();
        assertThat(cache.totalBytes()).isZero();
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
