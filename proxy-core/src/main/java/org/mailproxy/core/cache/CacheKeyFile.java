package org.mailproxy.core.cache;

import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.crypto.openpgp.DecryptionResult;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The cache's 256-bit key, stored next to the entries as an OpenPGP message encrypted to the account's own
 * certificate (SECURITY.md 25): whoever can read the directory still needs the account's secret key to read the
 * cache. Plaintext: {@code "MPK1"} followed by the 32 key octets.
 */
final class CacheKeyFile {
    static final String NAME = "cache-key.pgp";
    static final int KEY_LENGTH = 32;
    /** An OpenPGP message around 36 octets stays far below this; anything bigger is not ours. */
    private static final int MAX_FILE = 64 << 10;
    private static final byte[] MAGIC = "MPK1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private CacheKeyFile() {
    }

    /**
     * The stored key, or empty when there is none or {@code key} cannot decrypt it (the account's key was replaced,
     * or the file is damaged): either way the entries under it are unreadable.
     */
    static Optional<byte[]> load(Path dir, Keyring keyring, UnlockedKey key) throws IOException {
        byte[] sealed;
        try {
            if (Files.size(dir.resolve(NAME)) > MAX_FILE) {
                return Optional.empty();
            }
            sealed = Files.readAllBytes(dir.resolve(NAME));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Decryptor decryptor = new Decryptor(keyring, List.of(key), OpenPgpLimits.DEFAULTS.withMaxPlaintextBytes(1024),
                null);
        try (DecryptionResult r = decryptor.decrypt(new ByteArrayInputStream(sealed))) {
            if (r.plaintext().isEmpty()) {
                return Optional.empty();
            }
            byte[] plain;
            try (InputStream in = r.plaintext().get().openStream()) {
                plain = in.readAllBytes();
            }
            try {
                if (plain.length != MAGIC.length + KEY_LENGTH
                        || !Arrays.equals(plain, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                    return Optional.empty();
                }
                return Optional.of(Arrays.copyOfRange(plain, MAGIC.length, plain.length));
            } finally {
                Arrays.fill(plain, (byte) 0);
            }
        } catch (DecryptionFailedException e) {
            return Optional.empty();
        }
    }

    /** Makes a new random key and stores it encrypted to {@code key}'s certificate, replacing any old file. */
    static byte[] create(Path dir, Keyring keyring, UnlockedKey key) throws IOException {
        byte[] cacheKey = new byte[KEY_LENGTH];
        RANDOM.nextBytes(cacheKey);
        Path tmp = dir.resolve(NAME + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, MessageCache.FILE_PERMISSIONS);
        try {
            try (OutputStream file = Files.newOutputStream(tmp);
                 OutputStream enc = new Encryptor(keyring).open(file, List.of(key.fingerprint()), null, false)) {
                enc.write(MAGIC);
                enc.write(cacheKey);
            } catch (KeyException e) {
                throw new IOException("cannot encrypt the cache key to " + key.fingerprint(), e);
            }
            Files.move(tmp, dir.resolve(NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return cacheKey;
    }
}
