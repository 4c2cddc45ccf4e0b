package org.mailproxy.core.cache;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.core.cache.CacheTestSupport.put;
import static org.mailproxy.core.cache.CacheTestSupport.random;
import static org.mailproxy.core.cache.CacheTestSupport.read;

/** The total size stays under the bound; the least recently used entries go first, also across a restart. */
class CacheEvictionTest {
    private static final int CONTENT = 10_000;
    /** One entry on disk: header, one chunk's tag, empty metadata's tag, trailer. */
    private static final long ENTRY = EntryCipher.HEADER + CONTENT + 2 * EntryCipher.TAG
            + EntryCipher.TRAILER_LENGTH_FIELD;

    @TempDir
    static Path root;
    static CacheTestSupport keys;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        keys = new CacheTestSupport(root);
    }

    @Test
    void leastRecentlyUsedGoesFirstAndTheBoundHolds() throws Exception {
        try (MessageCache cache = keys.open(dir, 3 * ENTRY + 10)) {
            for (int uid = 1; uid <= 3; uid++) {
                put(cache, "INBOX", 1, uid, random(uid, CONTENT));
            }
            assertThat(cache.totalBytes()).isEqualTo(3 * ENTRY);
            assertThat(read(cache, "INBOX", 1, 1)).isNotNull(); // 1 is now the most recent; 2 the least

            put(cache, "INBOX", 1, 4, random(4, CONTENT));
            assertThat(read(cache, "INBOX", 1, 2)).isNull();
            assertThat(read(cache, "INBOX", 1, 3)).isEqualTo(random(3, CONTENT));
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(random(1, CONTENT));
            assertThat(read(cache, "INBOX", 1, 4)).isEqualTo(random(4, CONTENT));
            assertThat(cache.size()).isEqualTo(3);

            // use order now: 3, 1, 4; two more entries push out 3, then 1
            put(cache, "Sent", 1, 1, random(5, CONTENT), new byte[0], new Random(5));
            put(cache, "Sent", 1, 2, random(6, CONTENT), new byte[0], new Random(6));
            assertThat(read(cache, "INBOX", 1, 3)).isNull();
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            assertThat(read(cache, "INBOX", 1, 4)).isNotNull();
            assertThat(cache.totalBytes()).isLessThanOrEqualTo(cache.maxTotalBytes()).isEqualTo(diskBytes());
        }
    }

    @Test
    void boundHoldsAfterEveryCommit() throws Exception {
        Random r = new Random(7);
        long max = 5L * EntryCipher.CHUNK;
        try (MessageCache cache = keys.open(dir, max)) {
            for (int uid = 1; uid <= 40; uid++) {
                put(cache, "INBOX", 1, uid, random(uid, r.nextInt(2 * EntryCipher.CHUNK)));
                assertThat(cache.totalBytes()).isLessThanOrEqualTo(max).isEqualTo(diskBytes());
                assertThat(cache.size()).isEqualTo(CacheTestSupport.entryFiles(dir).size());
            }
            // the newest entry always survives its own commit
            assertThat(read(cache, "INBOX", 1, 40)).isEqualTo(random(40, lastSize(7, 40)));
        }
    }

    @Test
    void afterARestartModificationTimesGiveTheOrderAndReadsUpdateThem() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            for (int uid = 1; uid <= 3; uid++) {
                put(cache, "INBOX", 1, uid, random(uid, CONTENT));
            }
        }
        // last use before the restart: 2 long ago, then 1, then 3
        setTime(2, 1_000_000_000L);
        setTime(1, 1_000_001_000L);
        setTime(3, 1_000_002_000L);
        try (MessageCache cache = keys.open(dir)) {
            assertThat(read(cache, "INBOX", 1, 2)).isNotNull(); // a read makes 2 the most recent, on disk too
        }
        assertThat(Files.getLastModifiedTime(fileOf(2)).toMillis()).isGreaterThan(1_000_002_000L);
        // reopening with room for two evicts the least recently used: 1
        try (MessageCache cache = keys.open(dir, 2 * ENTRY)) {
            assertThat(cache.size()).isEqualTo(2);
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            assertThat(read(cache, "INBOX", 1, 2)).isNotNull();
            assertThat(read(cache, "INBOX", 1, 3)).isNotNull();
        }
    }

    @Test
    void evictedEntryStaysReadableForAReaderThatHasItOpen() throws Exception {
        try (MessageCache cache = keys.open(dir, 2 * ENTRY)) {
            put(cache, "INBOX", 1, 1, random(1, CONTENT));
            try (CacheEntry open = cache.get("INBOX", 1, 1).orElseThrow()) {
                put(cache, "INBOX", 1, 2, random(2, CONTENT));
                put(cache, "INBOX", 1, 3, random(3, CONTENT));
                assertThat(cache.get("INBOX", 1, 1)).isEmpty();
                try (InputStream in = open.openStream(0)) {
                    assertThat(in.readAllBytes()).isEqualTo(random(1, CONTENT));
                }
            }
        }
    }

    private static int lastSize(long seed, int count) {
        Random r = new Random(seed);
        int size = 0;
        for (int i = 0; i < count; i++) {
            size = r.nextInt(2 * EntryCipher.CHUNK);
        }
        return size;
    }

    private void setTime(long uid, long millis) throws Exception {
        Files.setLastModifiedTime(fileOf(uid), FileTime.fromMillis(millis));
    }

    private Path fileOf(long uid) {
        return CacheTestSupport.entryFiles(dir).stream()
                .filter(p -> p.getFileName().toString().equals("1-" + uid + MessageCache.ENTRY_SUFFIX))
                .findFirst().orElseThrow();
    }

    private long diskBytes() throws Exception {
        long sum = 0;
        for (Path p : CacheTestSupport.entryFiles(dir)) {
            sum += Files.size(p);
        }
        return sum;
    }
}
