package org.mailproxy.core.cache;

import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.SealedFiles;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * The cache's 256-bit key, stored next to the entries as an OpenPGP message encrypted to the account's own
 * certificate (SECURITY.md 25, {@link SealedFiles}): whoever can read the directory still needs the account's secret
 * key to read the cache. Plaintext: {@code "MPK1"} followed by the 32 key octets.
 */
final class CacheKeyFile {
    static final String NAME = "cache-key.pgp";
    static final int KEY_LENGTH = 32;
    private static final byte[] MAGIC = "MPK1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private CacheKeyFile() {
    }

    /**
     * The stored key, or empty when there is none or {@code key} cannot decrypt it (the account's key was replaced,
     * or the file is damaged): either way the entries under it are unreadable.
     */
    static Optional<byte[]> load(Path dir, Keyring keyring, UnlockedKey key) throws IOException {
        Optional<byte[]> content = SealedFiles.read(dir.resolve(NAME), MAGIC, keyring, key, KEY_LENGTH);
        if (content.isPresent() && content.get().length != KEY_LENGTH) {
            Arrays.fill(content.get(), (byte) 0);
            return Optional.empty();
        }
        return content;
    }

    /** Makes a new random key and stores it encrypted to {@code key}'s certificate, replacing any old file. */
    static byte[] create(Path dir, Keyring keyring, UnlockedKey key) throws IOException {
        byte[] cacheKey = new byte[KEY_LENGTH];
        RANDOM.nextBytes(cacheKey);
        SealedFiles.write(dir.resolve(NAME), MAGIC, cacheKey, keyring, key.fingerprint());
        return cacheKey;
    }
}
