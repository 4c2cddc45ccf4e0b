package org.mailproxy.core.crypto.openpgp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Small secrets kept in data-dir as OpenPGP messages encrypted to the account's own certificate (SECURITY.md 25):
 * whoever copies the directory still needs the account's secret key, and its passphrase, to read them. Writing needs
 * only the certificate, so a secret can be stored while the key is locked. The plaintext starts with a short magic
 * that names what the file holds, so a file of one kind is never taken for another.
 */
public final class SealedFiles {

    /** Owner read/write only, the mode of every file in data-dir. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** A sealed secret is a few dozen octets; a file far bigger than this is not one. */
    private static final int MAX_FILE = 64 << 10;

    private SealedFiles() {
    }

    /**
     * Encrypts {@code magic} followed by {@code content} to the certificate {@code fingerprint} into {@code file},
     * replacing it atomically (a reader sees the old or the new secret, never half of one). The file is owner-only
     * from its creation on.
     */
    public static void write(Path file, byte[] magic, byte[] content, Keyring keyring, String fingerprint)
            throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        try {
            try (OutputStream out = Files.newOutputStream(tmp);
                 OutputStream enc = new Encryptor(keyring).open(out, List.of(fingerprint), null, false)) {
                enc.write(magic);
                enc.write(content);
            } catch (KeyException e) {
                throw new IOException("cannot encrypt to " + fingerprint + ": " + e.getMessage(), e);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The content of a sealed file, without its magic; empty when the file is missing, is not of this kind, or
     * {@code key} cannot decrypt it (the account's key was replaced, or the file is damaged). The caller wipes the
     * returned octets when done.
     */
    public static Optional<byte[]> read(Path file, byte[] magic, Keyring keyring, UnlockedKey key, int maxContent)
            throws IOException {
        byte[] sealed;
        try {
            if (Files.size(file) > MAX_FILE) {
                return Optional.empty();
            }
            sealed = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Decryptor decryptor = new Decryptor(keyring, List.of(key),
                OpenPgpLimits.DEFAULTS.withMaxPlaintextBytes(magic.length + (long) maxContent), null);
        try (DecryptionResult r = decryptor.decrypt(new ByteArrayInputStream(sealed))) {
            if (r.plaintext().isEmpty()) {
                return Optional.empty();
            }
            byte[] plain;
            try (InputStream in = r.plaintext().get().openStream()) {
                plain = in.readAllBytes();
            }
            try {
                if (plain.length < magic.length || !Arrays.equals(plain, 0, magic.length, magic, 0, magic.length)) {
                    return Optional.empty();
                }
                return Optional.of(Arrays.copyOfRange(plain, magic.length, plain.length));
            } finally {
                Arrays.fill(plain, (byte) 0);
            }
        } catch (DecryptionFailedException e) {
            return Optional.empty();
        }
    }
}
