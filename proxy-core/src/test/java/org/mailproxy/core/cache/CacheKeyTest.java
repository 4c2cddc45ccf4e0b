package org.mailproxy.core.cache;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.core.cache.CacheTestSupport.PASS;
import static org.mailproxy.core.cache.CacheTestSupport.put;
import static org.mailproxy.core.cache.CacheTestSupport.random;
import static org.mailproxy.core.cache.CacheTestSupport.read;

/** SECURITY.md 25: only the account's own key unlocks the cache; a cache it cannot unlock is started afresh. */
class CacheKeyTest {
    @TempDir
    static Path root;
    static CacheTestSupport keys;
    /** The account's key after it was replaced (same address, new key). */
    static UnlockedKey replacement;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() throws Exception {
        keys = new CacheTestSupport(root);
        KeyInfo next = keys.keyring.generate(CacheTestSupport.EMAIL, PASS, KeyVersion.V4);
        replacement = keys.keyring.unlock(next.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    @Test
    void cacheKeyIsStoredAsOpenPgpMessageNotInClear() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 10));
        }
        byte[] stored = Files.readAllBytes(dir.resolve(CacheKeyFile.NAME));
        // a binary OpenPGP packet (RFC 9580 §4.2: bit 7 of the first octet set), far longer than a bare 32-octet key
        assertThat(stored[0] & 0x80).isEqualTo(0x80);
        assertThat(stored.length).isGreaterThan(100);
    }

    @Test
    void replacedAccountKeyDiscardsTheEntriesAndMakesANewCacheKey() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 100));
        }
        byte[] oldKeyFile = Files.readAllBytes(dir.resolve(CacheKeyFile.NAME));

        try (MessageCache cache = MessageCache.open(dir, keys.keyring, replacement)) {
            assertThat(cache.size()).isZero();
            assertThat(CacheTestSupport.entryFiles(dir)).isEmpty();
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
            put(cache, "INBOX", 1, 1, random(2, 100));
        }
        assertThat(Files.readAllBytes(dir.resolve(CacheKeyFile.NAME))).isNotEqualTo(oldKeyFile);
        try (MessageCache cache = MessageCache.open(dir, keys.keyring, replacement)) {
            assertThat(read(cache, "INBOX", 1, 1)).isEqualTo(random(2, 100));
        }
        // and the old key cannot open what the new one made
        try (MessageCache cache = keys.open(dir)) {
            assertThat(cache.size()).isZero();
            assertThat(read(cache, "INBOX", 1, 1)).isNull();
        }
    }

    @Test
    void damagedOrMissingKeyFileStartsAfresh() throws Exception {
        try (MessageCache cache = keys.open(dir)) {
            put(cache, "INBOX", 1, 1, random(1, 100));
        }
        Files.write(dir.resolve(CacheKeyFile.NAME), random(5, 300));
        try (MessageCache cache = keys.open(dir)) {
            assertThat(cache.size()).isZero();
            put(cache, "INBOX", 1, 1, random(1, 100));
        }
        Files.delete(dir.resolve(CacheKeyFile.NAME));
        try (MessageCache cache = keys.open(dir)) {
            assertThat(cache.size()).isZero();
            assertThat(CacheTestSupport.entryFiles(dir)).isEmpty();
        }
    }

    @Test
    void entryFromAnotherCacheDoesNotOpen(@TempDir Path other) throws Exception {
        try (MessageCache a = keys.open(dir); MessageCache b = keys.open(other)) {
            put(a, "INBOX", 1, 1, random(1, 100));
            put(b, "INBOX", 1, 1, random(2, 100));
            // b's mailbox directory name differs (other name key), so place a's file where b looks for it
            Path fromA = CacheTestSupport.entryFiles(dir).get(0);
            Path inB = CacheTestSupport.entryFiles(other).get(0);
            assertThat(fromA.getParent().getFileName()).isNotEqualTo(inB.getParent().getFileName());
            Files.copy(fromA, inB, StandardCopyOption.REPLACE_EXISTING);
            assertThatThrownBy(() -> b.get("INBOX", 1, 1)).isInstanceOf(CorruptEntryException.class);
            assertThat(b.get("INBOX", 1, 1)).isEmpty();
        }
    }
}
