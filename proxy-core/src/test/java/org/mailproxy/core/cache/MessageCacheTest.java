package org.mailproxy.core.cache;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.core.cache.CacheTestSupport.put;
import static org.mailproxy.core.cache.CacheTestSupport.random;
import static org.mailproxy.core.cache.CacheTestSupport.read;

class MessageCacheTest {
    private static final int CHUNK = 64 << 10;

    @TempDir
    static Path root;
    static CacheTestSupport keys;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        keys = new CacheTestSupport(root);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * 1024 * 1024 + 17})
    void roundTripInRandomWritePieces(int size) throws Exception {
        byte[] content = random(size, size);
        byte[] metadata = "BODYSTRUCTURE (\"text\" \"plain\")".getBytes(StandardCharsets.US_ASCII);
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 7, 42, content, metadata, new Random(size));
            try (CacheEntry e = cache.get("INBOX", 7, 42).orElseThrow()) {
                assertThat(e.size()).isEqualTo(size);
                assertThat(e.metadata()).isEqualTo(metadata);
                try (InputStream in = e.openStream(0)) {
                    assertThat(in.readAllBytes()).isEqualTo(content);
                }
            }
        }
    }

    @Test
    void directoriesItCreatesAboveTheCacheAreOwnerOnlyWhateverTheUmask() throws Exception {
        Path nested = dir.resolve("data").resolve("cache").resolve("alice");
        try (MessageCache cache = keys.open(nested)) {
            put(cache, "INBOX", 1, 1, random(3, 100));
        }
        for (Path d : new Path[]{dir.resolve("data"), dir.resolve("data/cache"), nested}) {
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)))
                    .as(d.toString()).isEqualTo("rwx------");
        }
    }

    @Test
    void randomOffsetReadsEqualTheSlice() throws Exception {
        byte[] content = random(1, 5 * CHUNK + 123);
        Random r = new Random(2);
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, content);
            try (CacheEntry e = cache.get("INBOX", 1, 1).orElseThrow()) {
                int[] edges = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, content.length - 1, content.length};
                for (int i = 0; i < 60; i++) {
                    int offset = i < edges.length ? edges[i] : r.nextInt(content.length + 1);
                    int length = r.nextInt(3 * CHUNK);
                    int end = Math.min(content.length, offset + length);
                    try (InputStream in = e.openStream(offset, length)) {
                        assertThat(in.readAllBytes()).as("offset %d length %d", offset, length)
                                .isEqualTo(Arrays.copyOfRange(content, offset, end));
                    }
                    try (InputStream in = e.openStream(offset)) {
                        assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOfRange(content, offset, content.length));
                    }
                }
                // IMAP partial fetch with an origin past the end gives nothing (RFC 3501 §6.4.5)
                try (InputStream in = e.openStream(content.length + 10, 5)) {
                    assertThat(in.read()).isEqualTo(-1);
                }
                try (InputStream in = e.openStream(0)) {
                    assertThat(in.skip(3L * CHUNK + 5)).isEqualTo(3L * CHUNK + 5);
                    assertThat(in.read()).isEqualTo(content[3 * CHUNK + 5] & 0xff);
                }
            }
        }
    }

    @Test
    void filesRevealNeitherPlaintextNorMailboxName() throws Exception {
        String mailbox = "Secret Project Zebra";
        byte[] canary = "CANARY-7f3c1e-plaintext-must-not-reach-the-disk".getBytes(StandardCharsets.US_ASCII);
        byte[] content = new byte[3 * CHUNK];
        for (int i = 0; i + canary.length <= content.length; i += canary.length) {
            System.arraycopy(canary, 0, content, i, canary.length);
        }
        try (MessageCache cache = keys.open(dir)) {
            put(cache, mailbox, 9, 3, content, canary, new Random(3));
            assertThat(read(cache, mailbox, 9, 3)).isEqualTo(content);
        }
        byte[] name = mailbox.getBytes(StandardCharsets.UTF_8);
        for (Path p : CacheTestSupport.files(dir)) {
            byte[] bytes = Files.readAllBytes(p);
            assertThat(indexOf(bytes, Arrays.copyOf(canary, 16))).as(p.toString()).isEqualTo(-1);
            assertThat(indexOf(bytes, name)).as(p.toString()).isEqualTo(-1);
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.map(p -> dir.relativize(p).toString()))
                    .allSatisfy(n -> assertThat(n.toLowerCase()).doesNotContain("secret", "zebra", "project"));
        }
    }

    @Test
    void directoriesArePrivateAndFilesOwnerOnly() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 10));
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                assertThat(perms).as(p.toString()).isEqualTo(Files.isDirectory(p) ? "rwx------" : "rw-------");
            }
        }
    }

    @Test
    void reopenedCacheFindsTheEntries() throws Exception {
        byte[] a = random(1, CHUNK + 5);
        byte[] b = random(2, 0);
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, a);
            put(cache, "Archive/2024", 5, 99, b);
        }
        try (MessageCache cache = keys.open(dir)) {
            assertThat(cache.size()).isEqualTo(2);
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(a);
            assertThat(read(cache, "Archive/2024", 5, 99)).isEqualTo(b);
            assertThat(read(cache, "INBOX", 1, 2)).isNull();
            assertThat(read(cache, "Archive/2025", 5, 99)).isNull();
        }
    }

    @Test
    void accountDirectoryNameDoesNotSpellTheAddress() {
        Path a = MessageCache.directoryFor(dir, "Alice@Example.org ");
        assertThat(a.getParent()).isEqualTo(dir);
        assertThat(a.getFileName().toString()).matches("[0-9a-f]{64}").doesNotContain("alice", "example");
        assertThat(MessageCache.directoryFor(dir, "alice@example.org")).isEqualTo(a);
        assertThat(MessageCache.directoryFor(dir, "bob@example.org")).isNotEqualTo(a);
    }

    @Test
    void secondInstanceOverTheSameDirectoryIsRefused() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 10));
            assertThatThrownBy(() -> keys.open(dir)).isInstanceOf(IOException.class).hasMessageContaining("in use");
        }
        try (MessageCache cache = keys.open(dir)) {
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(random(1, 10));
        }
    }

    @Test
    void newUidValidityRemovesTheMailboxsOldEntriesOnly() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 10));
            put(cache, "INBOX", 1, 2, random(2, 10));
            put(cache, "INBOX", 2, 1, random(3, 10));
            put(cache, "Sent", 1, 1, random(4, 10));

            assertThat(cache.invalidateIfUidValidityChanged("INBOX", 2)).isEqualTo(2);
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            assertThat(read(cache, "INBOX", 1, 2)).isNull();
            assertThat(read(cache, "INBOX", 2, 1)).isEqualTo(random(3, 10));
            assertThat(read(cache, "Sent", 1, 1)).isEqualTo(random(4, 10));
            assertThat(cache.invalidateIfUidValidityChanged("INBOX", 2)).isZero();
            assertThat(cache.size()).isEqualTo(2);
            assertThat(CacheTestSupport.entryFiles(dir)).hasSize(2);
        }
    }

    @Test
    void writeUnderAnOutdatedUidValidityIsDropped() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            try (CacheEntryWriter w = cache.writer("INBOX", 1, 1)) {
                w.write(random(1, 100));
                cache.invalidateIfUidValidityChanged("INBOX", 2);
                w.commit(new byte[0]);
            }
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            assertThat(cache.size()).isZero();
            assertThat(CacheTestSupport.files(dir.resolve("tmp"))).isEmpty();
        }
    }

    @Test
    void removeDeletesOneEntry() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 10));
            put(cache, "INBOX", 1, 2, random(2, 10));
            long before = cache.totalBytes();
            cache.remove("INBOX", 1, 1);
            cache.remove("INBOX", 1, 77); // absent: nothing happens
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            assertThat(read(cache, "INBOX", 1, 2)).isEqualTo(random(2, 10));
            assertThat(cache.totalBytes()).isLessThan(before).isEqualTo(diskBytes());
        }
    }

    @Test
    void entryAppearsOnlyAfterCommit() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            try (CacheEntryWriter w = cache.writer("INBOX", 1, 1)) {
                w.write(random(1, 3 * CHUNK));
                assertThat(cache.get("INBOX", 1, 1)).isEmpty();
                // closed without commit: a fetch that failed half way
            }
            assertThat(cache.get("INBOX", 1, 1)).isEmpty();
            assertThat(CacheTestSupport.entryFiles(dir)).isEmpty();
            assertThat(CacheTestSupport.files(dir.resolve("tmp"))).isEmpty();
            assertThat(cache.totalBytes()).isZero();
        }
    }

    @Test
    void rewriteReplacesTheEntry() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 2 * CHUNK));
            put(cache, "INBOX", 1, 1, random(2, 10));
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(random(2, 10));
            assertThat(cache.size()).isEqualTo(1);
            assertThat(cache.totalBytes()).isEqualTo(diskBytes());
        }
    }

    @Test
    void limitsAreEnforcedAndNothingIsLeftBehind() throws Exception {
        try (MessageCache cache = MessageCache.open(dir, keys.keyring, keys.key, 2 * CHUNK, 100)) {
            CacheEntryWriter big = cache.writer("INBOX", 1, 1);
            assertThatThrownBy(() -> big.write(random(1, 3 * CHUNK))).isInstanceOf(IOException.class)
                    .hasMessageContaining("larger than the whole cache");
            CacheEntryWriter meta = cache.writer("INBOX", 1, 2);
            meta.write(1);
            assertThatThrownBy(() -> meta.commit(new byte[101])).isInstanceOf(IOException.class)
                    .hasMessageContaining("metadata");
            assertThat(cache.size()).isZero();
            assertThat(CacheTestSupport.files(dir.resolve("tmp"))).isEmpty();
        }
        assertThatThrownBy(() -> MessageCache.open(dir, keys.keyring, keys.key, 0, 100))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void uidsOutsideTheImapRangeAreRefused() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            assertThatThrownBy(() -> cache.get("INBOX", 0, 1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> cache.writer("INBOX", 1, 1L << 32)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private long diskBytes() throws IOException {
        long sum = 0;
        for (Path p : CacheTestSupport.entryFiles(dir)) {
            sum += Files.size(p);
        }
        return sum;
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
