package org.mailproxy.core.cache;

import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** An account key in a fresh keyring, and helpers to write and read entries. */
final class CacheTestSupport {
    static final char[] PASS = "cache test passphrase".toCharArray();
    static final String EMAIL = "alice@example.org";

    final Keyring keyring;
    final KeyInfo info;
    final UnlockedKey key;

    CacheTestSupport(Path root) throws Exception {
        this.keyring = Keyring.open(root.resolve("keys"));
        this.info = keyring.generate(EMAIL, PASS, KeyVersion.V4);
        this.key = keyring.unlock(info.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    MessageCache open(Path dir) throws IOException {
        return MessageCache.open(dir, keyring, key);
    }

    MessageCache open(Path dir, long maxTotalBytes) throws IOException {
        return MessageCache.open(dir, keyring, key, maxTotalBytes, MessageCache.DEFAULT_MAX_METADATA_BYTES);
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Writes {@code content} in random pieces (1 octet up to a few chunks) and commits it. */
    static void put(MessageCache cache, String mailbox, long uidValidity, long uid, byte[] content, byte[] metadata,
                    Random random) throws IOException {
        try (CacheEntryWriter w = cache.writer(mailbox, uidValidity, uid)) {
            int at = 0;
            while (at < content.length) {
                int n = Math.min(content.length - at, 1 + random.nextInt(random.nextBoolean() ? 100 : 200_000));
                w.write(content, at, n);
                at += n;
            }
            w.commit(metadata);
        }
    }

    static void put(MessageCache cache, String mailbox, long uidValidity, long uid, byte[] content)
            throws IOException {
        put(cache, mailbox, uidValidity, uid, content, new byte[0], new Random(uid));
    }

    /** The whole content of an entry, or null if there is none. */
    static byte[] read(MessageCache cache, String mailbox, long uidValidity, long uid) throws IOException {
        var entry = cache.get(mailbox, uidValidity, uid);
        if (entry.isEmpty()) {
            return null;
        }
        try (CacheEntry e = entry.get(); InputStream in = e.openStream(0)) {
            return in.readAllBytes();
        }
    }

    /** Every regular file under {@code dir}. */
    static List<Path> files(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The entry files (not the key file). */
    static List<Path> entryFiles(Path dir) {
        return files(dir).stream().filter(p -> p.getFileName().toString().endsWith(MessageCache.ENTRY_SUFFIX))
                .toList();
    }
}
