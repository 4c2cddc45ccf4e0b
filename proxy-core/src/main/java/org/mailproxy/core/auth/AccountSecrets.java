package org.mailproxy.core.auth;

import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.SealedFiles;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Optional;

/**
 * What data-dir keeps per account for local authentication, under {@code accounts/<address>/}:
 * <ul>
 *   <li>{@code local-password}: the password clients log in to the proxy with; generated from 144 random bits
 *       (24 base64url characters), or set by the operator when it passes {@link #MIN_LOCAL_PASSWORD_BITS}. It is
 *       stored readable by the owner only, because {@code mailproxy accounts show-password} must be able to show it;
 *       it opens nothing but the proxy's own listeners.</li>
 *   <li>{@code provider-login.pgp}: the login name and password for the provider, sealed to the account's own
 *       certificate ({@link SealedFiles}), so a copied data-dir or a backup does not reveal them.</li>
 * </ul>
 * Candidates are compared in constant time (digests of both, {@link MessageDigest#isEqual}). The files are read on
 * every check, so {@code mailproxy accounts reset-password} takes effect on the next login without a restart.
 */
public final class AccountSecrets {

    /** The strength a local password needs: what a guess at a network listener must be up against. */
    public static final int MIN_LOCAL_PASSWORD_BITS = 128;

    static final String LOCAL_PASSWORD = "local-password";
    static final String PROVIDER_LOGIN = "provider-login.pgp";
    private static final int GENERATED_BYTES = 18;
    private static final int MAX_LOCAL_PASSWORD = 1024;
    private static final int MAX_PROVIDER_LOGIN = 8192;
    private static final byte[] PROVIDER_MAGIC = "MPL1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;

    private AccountSecrets(Path root) {
        this.root = root;
    }

    /** The secrets under {@code dataDir/accounts}; directories are created owner-only when first written. */
    public static AccountSecrets open(Path dataDir) {
        return new AccountSecrets(dataDir.resolve("accounts"));
    }

    // ---------------------------------------------------------------- local password

    /** The account's local password, if one was generated or set. */
    public synchronized Optional<String> existingLocalPassword(String email) throws IOException {
        try {
            Path file = dir(email).resolve(LOCAL_PASSWORD);
            if (Files.size(file) > MAX_LOCAL_PASSWORD) {
                throw new IOException(file + " is not a local password file");
            }
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.isEmpty() ? Optional.empty() : Optional.of(text);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** The account's local password, generated and stored first when there is none. */
    public synchronized String localPassword(String email) throws IOException {
        Optional<String> existing = existingLocalPassword(email);
        return existing.isPresent() ? existing.get() : resetLocalPassword(email);
    }

    /** Replaces the account's local password with a newly generated one and returns it. */
    public synchronized String resetLocalPassword(String email) throws IOException {
        byte[] random = new byte[GENERATED_BYTES];
        RANDOM.nextBytes(random);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        writeOwnerOnly(dir(email).resolve(LOCAL_PASSWORD), (password + "\n").getBytes(StandardCharsets.US_ASCII));
        return password;
    }

    /**
     * Sets the operator's own local password (for a password shared with an app container through a secret).
     *
     * @throws IllegalArgumentException when it is estimated below {@link #MIN_LOCAL_PASSWORD_BITS} bits, contains
     *                                  a character a login cannot carry, or is too long
     */
    public synchronized void setLocalPassword(String email, String password) throws IOException {
        String p = password.strip();
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c < 0x21 || c == 0x7f) {
                throw new IllegalArgumentException("a local password is printable characters without spaces");
            }
        }
        if (p.length() > MAX_LOCAL_PASSWORD / 4) {
            throw new IllegalArgumentException("a local password has at most " + MAX_LOCAL_PASSWORD / 4 + " characters");
        }
        int bits = estimatedBits(p);
        if (bits < MIN_LOCAL_PASSWORD_BITS) {
            throw new IllegalArgumentException("this password is about " + bits + " bits strong; a local password needs "
                    + MIN_LOCAL_PASSWORD_BITS + " (e.g. 22 random letters and digits, or `openssl rand -base64 24`)");
        }
        writeOwnerOnly(dir(email).resolve(LOCAL_PASSWORD), (p + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * An upper estimate of a password's strength: its length times the bits of the character classes it draws from
     * (lower case, upper case, digits, other printable ASCII, anything else), less what repeats give away. Enough to
     * refuse the obviously weak; a random string of 22 base64 characters passes.
     */
    public static int estimatedBits(String password) {
        boolean lower = false, upper = false, digit = false, symbol = false, other = false;
        for (int i = 0; i < password.length(); i++) {
            char c = password.charAt(i);
            if (c >= 'a' && c <= 'z') {
                lower = true;
            } else if (c >= 'A' && c <= 'Z') {
                upper = true;
            } else if (c >= '0' && c <= '9') {
                digit = true;
            } else if (c < 0x80) {
                symbol = true;
            } else {
                other = true;
            }
        }
        int pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (symbol ? 32 : 0) + (other ? 100 : 0);
        long distinct = password.chars().distinct().count();
        // A password of few distinct characters ("aaaa...", "abab...") is far weaker than its length says: count
        // each character as a choice among distinct squared (1 bit for a two-letter alternation), at most the pool.
        double perChar = Math.log(Math.max(1, Math.min(pool, distinct * distinct))) / Math.log(2);
        return (int) Math.floor(password.length() * perChar);
    }

    /**
     * Whether {@code candidate} is the account's local password, in time independent of where they differ. False
     * when the account has none.
     */
    public boolean checkLocalPassword(String email, byte[] candidate) throws IOException {
        Optional<String> stored = existingLocalPassword(email);
        byte[] expected = sha256(stored.orElse("").getBytes(StandardCharsets.UTF_8));
        byte[] given = sha256(candidate);
        boolean equal = MessageDigest.isEqual(expected, given);
        return stored.isPresent() && equal;
    }

    // ---------------------------------------------------------------- provider credentials

    public boolean hasProviderLogin(String email) {
        return Files.exists(dir(email).resolve(PROVIDER_LOGIN), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Stores the provider login sealed to the certificate {@code fingerprint} (the account's own key; its secret part
     * need not be unlocked), replacing what was stored before.
     */
    public synchronized void storeProviderLogin(String email, ProviderLogin login, Keyring keyring, String fingerprint)
            throws IOException {
        byte[] name = login.login().getBytes(StandardCharsets.UTF_8);
        byte[] content = new byte[name.length + 1 + login.password().length];
        System.arraycopy(name, 0, content, 0, name.length);
        System.arraycopy(login.password(), 0, content, name.length + 1, login.password().length);
        try {
            if (content.length > MAX_PROVIDER_LOGIN) {
                throw new IllegalArgumentException("a login and password of more than " + MAX_PROVIDER_LOGIN + " octets");
            }
            ensureDir(dir(email));
            SealedFiles.write(dir(email).resolve(PROVIDER_LOGIN), PROVIDER_MAGIC, content, keyring, fingerprint);
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /**
     * The stored provider login, decrypted with the account's unlocked key; empty when none is stored or it cannot
     * be read with this key (stored for a key that was replaced since). The caller {@link ProviderLogin#erase erases}
     * it after use.
     */
    public Optional<ProviderLogin> providerLogin(String email, Keyring keyring, UnlockedKey key) throws IOException {
        Optional<byte[]> content = SealedFiles.read(dir(email).resolve(PROVIDER_LOGIN), PROVIDER_MAGIC, keyring, key,
                MAX_PROVIDER_LOGIN);
        if (content.isEmpty()) {
            return Optional.empty();
        }
        byte[] c = content.get();
        try {
            int nul = 0;
            while (nul < c.length && c[nul] != 0) {
                nul++;
            }
            if (nul == 0 || nul == c.length) {
                return Optional.empty();
            }
            return Optional.of(new ProviderLogin(new String(c, 0, nul, StandardCharsets.UTF_8),
                    Arrays.copyOfRange(c, nul + 1, c.length)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        } finally {
            Arrays.fill(c, (byte) 0);
        }
    }

    // ---------------------------------------------------------------- files

    /**
     * The account's directory. Addresses are lower-cased; anything a file name should not carry is hex-escaped, so
     * no configured address can name a path outside {@code accounts/}.
     */
    Path dir(String email) {
        String addr = email.toLowerCase(Locale.ROOT);
        StringBuilder name = new StringBuilder();
        for (byte b : addr.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            boolean plain = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '@' || c == '-' || c == '_' || c == '+'
                    || c == '.' && name.length() > 0;
            if (plain) {
                name.append(c);
            } else {
                name.append('%').append(String.format("%02x", b & 0xff));
            }
        }
        return root.resolve(name.toString());
    }

    private void ensureDir(Path dir) throws IOException {
        for (Path d : new Path[]{root, dir}) {
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(d.getParent());
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        }
    }

    private void writeOwnerOnly(Path file, byte[] content) throws IOException {
        ensureDir(file.getParent());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(SealedFiles.OWNER_ONLY));
        try {
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
            Arrays.fill(content, (byte) 0);
        }
    }

    private static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
