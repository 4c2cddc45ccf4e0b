package org.mailproxy.core.cache;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.core.cache.CacheTestSupport.put;
import static org.mailproxy.core.cache.CacheTestSupport.random;
import static org.mailproxy.core.cache.CacheTestSupport.read;

/**
 * Several sessions of one account share the cache: writes of the same and of different keys, reads, removals and
 * evictions at once leave every entry either absent or exactly one complete version, and the size accounting equal
 * to the files on disk.
 */
class CacheConcurrencyTest {
    private static final int THREADS = 4;
    private static final int UIDS = 6;
    private static final int VERSIONS = 3;

    @TempDir
    static Path root;
    static CacheTestSupport keys;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        keys = new CacheTestSupport(root);
    }

    /** Version {@code v} of message {@code uid}; sizes cover empty, small and several chunks. */
    private static byte[] version(long uid, int v) {
        int[] sizes = {0, 700, 2 * EntryCipher.CHUNK + 333};
        return random(uid * 100 + v, sizes[v]);
    }

    @ParameterizedTest(name = "max total {0} octets")
    @ValueSource(longs = {MessageCache.DEFAULT_MAX_TOTAL_BYTES, 5L * EntryCipher.CHUNK})
    void mixedOperationsLeaveAConsistentCache(long maxTotal) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        CyclicBarrier start = new CyclicBarrier(THREADS);
        try (MessageCache cache = keys.open(dir, maxTotal)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long seed = t;
                results.add(pool.submit(() -> {
                    Random r = new Random(seed);
                    start.await();
                    int reads = 0;
                    for (int i = 0; i < 40; i++) {
                        long uid = 1 + r.nextInt(UIDS);
                        int op = r.nextInt(10);
                        if (op < 4) {
                            int v = r.nextInt(VERSIONS);
                            put(cache, "INBOX", 1, uid, version(uid, v), new byte[] {(byte) v}, r);
                        } else if (op < 9) {
                            Optional<CacheEntry> entry = cache.get("INBOX", 1, uid);
                            if (entry.isPresent()) {
                                try (CacheEntry e = entry.get(); InputStream in = e.openStream(0)) {
                                    int v = e.metadata()[0];
                                    assertThat(in.readAllBytes()).isEqualTo(version(uid, v));
                                    reads++;
                                }
                            }
                        } else {
                            cache.remove("INBOX", 1, uid);
                        }
                    }
                    return reads;
                }));
            }
            for (Future<Integer> f : results) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertConsistent(cache);
        } finally {
            pool.shutdownNow();
        }
        try (MessageCache reopened = keys.open(dir, maxTotal)) {
            assertConsistent(reopened);
        }
    }

    @Test
    void readerOfAnEntryKeepsItsVersionWhileTheKeyIsRewritten() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, version(1, 2));
            try (CacheEntry old = cache.get("INBOX", 1, 1).orElseThrow(); InputStream in = old.openStream(0)) {
                byte[] head = in.readNBytes(1000);
                put(cache, "INBOX", 1, 1, version(1, 1));
                cache.remove("INBOX", 1, 1);
                put(cache, "INBOX", 1, 1, version(1, 0));
                byte[] rest = in.readAllBytes();
                byte[] all = new byte[head.length + rest.length];
                System.arraycopy(head, 0, all, 0, head.length);
                System.arraycopy(rest, 0, all, head.length, rest.length);
                assertThat(all).isEqualTo(version(1, 2));
            }
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(version(1, 0));
        }
    }

    private void assertConsistent(MessageCache cache) throws Exception {
        List<Path> files = CacheTestSupport.entryFiles(dir);
        long disk = 0;
        for (Path p : files) {
            disk += Files.size(p);
        }
        assertThat(cache.totalBytes()).isEqualTo(disk).isLessThanOrEqualTo(cache.maxTotalBytes());
        assertThat(cache.size()).isEqualTo(files.size());
        assertThat(CacheTestSupport.files(dir.resolve("tmp"))).isEmpty();
        for (long uid = 1; uid <= UIDS; uid++) {
            Optional<CacheEntry> entry = cache.get("INBOX", 1, uid);
            if (entry.isPresent()) {
                try (CacheEntry e = entry.get(); InputStream in = e.openStream(0)) {
                    assertThat(in.readAllBytes()).isEqualTo(version(uid, e.metadata()[0]));
                }
            }
        }
    }
}
