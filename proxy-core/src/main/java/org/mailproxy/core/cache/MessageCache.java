package org.mailproxy.core.cache;

import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Decrypted messages of one account, kept on disk so a mailbox shown decrypted to IMAP clients need not be fetched
 * and decrypted again for every FETCH. Entries are keyed by mailbox, UIDVALIDITY and UID (RFC 3501 §2.3.1.1) and
 * hold the message octets plus a small opaque metadata blob (e.g. the derived structure).
 *
 * <p><b>At rest</b> (SECURITY.md 25): a random 256-bit cache key, stored OpenPGP-encrypted to the account's own
 * certificate ({@link CacheKeyFile}), so only the account's secret key opens the cache. If the given key cannot
 * decrypt it (the account's key was replaced), every entry is deleted and a new cache key made. File and directory
 * names carry an HMAC of the mailbox name, never the name; contents are AES-256-GCM in 64 KiB chunks
 * ({@link EntryCipher}) so any offset can be read without decrypting from the start, and any change to a file
 * (flipped bit, truncation, reordered chunks, a file moved to another entry's name) is detected: the read throws
 * {@link CorruptEntryException} and the entry is removed.
 *
 * <p><b>Writes</b> go to a temp file and become visible by an atomic rename only when
 * {@link CacheEntryWriter#commit(byte[])} succeeded, so a crash or an aborted fetch never leaves a half entry. No
 * fsync: a file damaged by a crash fails authentication and is dropped like a tampered one.
 *
 * <p><b>Bounded</b>: at most {@code maxTotalBytes} on disk; a commit that goes over deletes least-recently-used
 * entries. Use is tracked in memory and, for the order after a restart, in file modification times (reads update
 * them).
 *
 * <p><b>Thread-safe</b>: several sessions of one account may read and write at once. Readers hold an open file, and
 * files are only ever replaced (rename) or deleted, never changed in place, so a reader keeps a consistent entry
 * even while the same key is rewritten or evicted. One instance per directory (share it between the account's
 * sessions): the size accounting lives in memory, so a second opener, in this process or another, is refused
 * through a lock on the directory.
 *
 * <table>
 * <tr><th>limit</th><th>default</th></tr>
 * <tr><td>maxTotalBytes: all entry files together (ciphertext octets); also the largest single entry</td>
 *     <td>{@value #DEFAULT_MAX_TOTAL_BYTES} (1 GiB)</td></tr>
 * <tr><td>maxMetadataBytes: one entry's metadata blob</td><td>{@value #DEFAULT_MAX_METADATA_BYTES} (1 MiB)</td></tr>
 * </table>
 */
public final class MessageCache implements AutoCloseable {
    public static final long DEFAULT_MAX_TOTAL_BYTES = 1L << 30;
    public static final int DEFAULT_MAX_METADATA_BYTES = 1 << 20;

    static final String ENTRY_SUFFIX = ".msg";
    static final FileAttribute<Set<PosixFilePermission>> FILE_PERMISSIONS =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    private static final Set<PosixFilePermission> DIR_PERMISSIONS = PosixFilePermissions.fromString("rwx------");
    private static final Pattern ENTRY_NAME = Pattern.compile("[0-9]{1,10}-[0-9]{1,10}\\" + ENTRY_SUFFIX);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path entriesDir;
    private final Path tmpDir;
    private final long maxTotalBytes;
    private final int maxMetadataBytes;
    private final FileChannel lockFile;
    private final byte[] nameKey;
    private final byte[] dataKey;

    private final Object lock = new Object();
    /** Entry file → its size on disk, least recently used first. Guarded by {@link #lock}. */
    private final LinkedHashMap<Path, Long> index = new LinkedHashMap<>(64, 0.75f, true);
    /** Mailbox directory → the UIDVALIDITY last announced for it; commits under another one are dropped. */
    private final Map<String, Long> uidValidities = new HashMap<>();
    private long totalBytes;
    private boolean closed;

    private MessageCache(Path dir, FileChannel lockFile, byte[] cacheKey, long maxTotalBytes, int maxMetadataBytes) {
        this.lockFile = lockFile;
        this.entriesDir = dir.resolve("entries");
        this.tmpDir = dir.resolve("tmp");
        this.maxTotalBytes = maxTotalBytes;
        this.maxMetadataBytes = maxMetadataBytes;
        this.nameKey = EntryCipher.hmac(cacheKey, "mailproxy cache v1 names".getBytes(StandardCharsets.US_ASCII));
        this.dataKey = EntryCipher.hmac(cacheKey, "mailproxy cache v1 data".getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The directory under {@code cacheRoot} for an account: hex of SHA-256 of the lower-cased address, so a listing
     * of the data directory does not spell the addresses (anyone holding a candidate address can still confirm it;
     * the name is a convenience, the protection is the encryption).
     */
    public static Path directoryFor(Path cacheRoot, String address) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(address.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
            return cacheRoot.resolve(HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Opens the cache with the default limits. */
    public static MessageCache open(Path dir, Keyring keyring, UnlockedKey accountKey) throws IOException {
        return open(dir, keyring, accountKey, DEFAULT_MAX_TOTAL_BYTES, DEFAULT_MAX_METADATA_BYTES);
    }

    /**
     * Opens (or creates) the cache of one account.
     *
     * @param dir              the account's cache directory; its name should not reveal the address (e.g. hex of
     *                         SHA-256 of it). Created, and kept, mode 0700.
     * @param keyring          holds the account's certificate (to store a new cache key) and is used to decrypt
     * @param accountKey       the account's unlocked key; only it can recover the cache key
     * @param maxTotalBytes    bound on all entry files together
     * @param maxMetadataBytes bound on one entry's metadata
     */
    public static MessageCache open(Path dir, Keyring keyring, UnlockedKey accountKey, long maxTotalBytes,
                                    int maxMetadataBytes) throws IOException {
        Objects.requireNonNull(keyring);
        Objects.requireNonNull(accountKey);
        if (maxTotalBytes <= 0 || maxMetadataBytes < 0) {
            throw new IllegalArgumentException("cache limits must be positive");
        }
        privateDirectory(dir);
        FileChannel lockFile = lock(dir);
        try {
            Optional<byte[]> stored = CacheKeyFile.load(dir, keyring, accountKey);
            byte[] cacheKey;
            if (stored.isPresent()) {
                cacheKey = stored.get();
            } else {
                // no key, or one the account's key cannot open: whatever entries exist are unreadable
                deleteTree(dir.resolve("entries"));
                cacheKey = CacheKeyFile.create(dir, keyring, accountKey);
            }
            MessageCache cache = new MessageCache(dir, lockFile, cacheKey, maxTotalBytes, maxMetadataBytes);
            Arrays.fill(cacheKey, (byte) 0);
            privateDirectory(cache.entriesDir);
            deleteTree(cache.tmpDir); // leftovers of writes a crash interrupted
            privateDirectory(cache.tmpDir);
            cache.loadIndex();
            return cache;
        } catch (IOException | RuntimeException e) {
            lockFile.close();
            throw e;
        }
    }

    private static FileChannel lock(Path dir) throws IOException {
        Path path = dir.resolve("lock");
        if (!Files.exists(path)) {
            try {
                Files.createFile(path, FILE_PERMISSIONS);
            } catch (FileAlreadyExistsException ignored) {
                // another opener made it first; the lock below decides
            }
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE);
        try {
            if (ch.tryLock() != null) {
                return ch;
            }
        } catch (OverlappingFileLockException ignored) {
            // held by another instance in this process
        }
        ch.close();
        throw new IOException("cache directory " + dir + " is in use by another instance");
    }

    /**
     * Whether the cache holds an entry for the message, from the in-memory index alone: no file is opened or
     * authenticated (that happens on {@link #get}), so asking about a whole mailbox is cheap.
     */
    public boolean contains(String mailbox, long uidValidity, long uid) {
        Path file = path(key(mailbox, uidValidity, uid));
        synchronized (lock) {
            return index.containsKey(file);
        }
    }

    /**
     * The entry, or empty if there is none. The returned entry keeps its file open (close it when done) and stays
     * readable even if the entry is replaced, removed or evicted meanwhile.
     *
     * @throws CorruptEntryException the file failed authentication; it has been removed
     */
    public Optional<CacheEntry> get(String mailbox, long uidValidity, long uid) throws IOException {
        EntryKey key = key(mailbox, uidValidity, uid);
        Path file = path(key);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        CacheEntry entry = null;
        try {
            Object fileKey;
            try {
                fileKey = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
            } catch (NoSuchFileException e) {
                return Optional.empty(); // evicted or removed between the open and here
            }
            try {
                entry = CacheEntry.open(this, file, fileKey, ch, key, dataKey, maxMetadataBytes);
            } catch (CorruptEntryException e) {
                discard(file, fileKey);
                throw e;
            }
            touch(file);
            return Optional.of(entry);
        } finally {
            if (entry == null) {
                ch.close();
            }
        }
    }

    /**
     * Starts writing an entry. Stream the message into the writer, then {@link CacheEntryWriter#commit(byte[])};
     * closing it without a commit discards what was written.
     */
    public CacheEntryWriter writer(String mailbox, long uidValidity, long uid) throws IOException {
        EntryKey key = key(mailbox, uidValidity, uid);
        Path tmp = tmpDir.resolve(HexFormat.of().formatHex(randomBytes(16)) + ".tmp");
        Files.createFile(tmp, FILE_PERMISSIONS);
        return new CacheEntryWriter(this, key, tmp, dataKey, maxTotalBytes, maxMetadataBytes);
    }

    /** Removes one entry (EXPUNGE). */
    public void remove(String mailbox, long uidValidity, long uid) throws IOException {
        Path file = path(key(mailbox, uidValidity, uid));
        synchronized (lock) {
            delete(file);
        }
    }

    /**
     * Records the mailbox's current UIDVALIDITY (from SELECT/EXAMINE/STATUS) and removes its entries made under
     * any other: a new UIDVALIDITY means the old UIDs may now name other messages (RFC 3501 §2.3.1.1). Writes
     * under the old value that finish afterwards are dropped.
     *
     * @return how many entries were removed
     */
    public int invalidateIfUidValidityChanged(String mailbox, long uidValidity) throws IOException {
        EntryKey key = key(mailbox, uidValidity, 1);
        Path mailboxDir = entriesDir.resolve(key.mailboxDir());
        String keep = uidValidity + "-";
        int removed = 0;
        synchronized (lock) {
            uidValidities.put(key.mailboxDir(), uidValidity);
            for (Path p : List.copyOf(index.keySet())) {
                if (p.getParent().equals(mailboxDir) && !p.getFileName().toString().startsWith(keep)) {
                    delete(p);
                    removed++;
                }
            }
        }
        return removed;
    }

    /** Octets of all entry files together (for metrics and tests). */
    public long totalBytes() {
        synchronized (lock) {
            return totalBytes;
        }
    }

    /** Number of entries (for metrics and tests). */
    public int size() {
        synchronized (lock) {
            return index.size();
        }
    }

    public long maxTotalBytes() {
        return maxTotalBytes;
    }

    /**
     * Drops the keys and releases the directory; the cache is unusable afterwards. Entries and writers already
     * handed out keep working.
     */
    @Override
    public void close() throws IOException {
        synchronized (lock) {
            closed = true;
            Arrays.fill(nameKey, (byte) 0);
            Arrays.fill(dataKey, (byte) 0);
        }
        lockFile.close();
    }

    // ------------------------------------------------------------------------------------------ package-private

    /** Publishes a finished temp file and evicts least-recently-used entries until the bound holds again. */
    void commit(EntryKey key, Path tmp, long fileBytes) throws IOException {
        Path file = path(key);
        synchronized (lock) {
            Long current = uidValidities.get(key.mailboxDir());
            if (current != null && current != key.uidValidity()) {
                Files.deleteIfExists(tmp); // the mailbox moved on while this was written
                return;
            }
            privateDirectory(file.getParent());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Long old = index.put(file, fileBytes);
            totalBytes += fileBytes - (old == null ? 0 : old);
            evict(file);
        }
    }

    /**
     * Removes an entry found corrupt, unless the name meanwhile points at another file (a fresh write of the same
     * key, which must survive).
     */
    void discard(Path file, Object fileKey) throws IOException {
        synchronized (lock) {
            try {
                Object now = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
                if (fileKey != null && now != null && !fileKey.equals(now)) {
                    return;
                }
            } catch (NoSuchFileException e) {
                index.remove(file);
                return;
            }
            delete(file);
        }
    }

    // ------------------------------------------------------------------------------------------ internals

    private EntryKey key(String mailbox, long uidValidity, long uid) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("cache closed");
            }
        }
        byte[] mac = EntryCipher.hmac(nameKey, mailbox.getBytes(StandardCharsets.UTF_8));
        return new EntryKey(Arrays.copyOf(mac, EntryKey.MAILBOX_ID_LENGTH), uidValidity, uid);
    }

    private Path path(EntryKey key) {
        return entriesDir.resolve(key.mailboxDir()).resolve(key.fileName());
    }

    private void touch(Path file) {
        synchronized (lock) {
            index.get(file); // access order
        }
        try {
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException ignored) {
            // replaced or evicted meanwhile: its use no longer matters
        }
    }

    /** Caller holds {@link #lock}. */
    private void evict(Path keep) throws IOException {
        Iterator<Map.Entry<Path, Long>> it = index.entrySet().iterator();
        while (totalBytes > maxTotalBytes && it.hasNext()) {
            Map.Entry<Path, Long> eldest = it.next();
            if (eldest.getKey().equals(keep)) {
                continue;
            }
            Files.deleteIfExists(eldest.getKey());
            totalBytes -= eldest.getValue();
            it.remove();
        }
    }

    /** Caller holds {@link #lock}. */
    private void delete(Path file) throws IOException {
        Long size = index.remove(file);
        if (size != null) {
            totalBytes -= size;
        }
        Files.deleteIfExists(file);
    }

    /** Rebuilds the index from the files, ordered by modification time (the last use before the restart). */
    private void loadIndex() throws IOException {
        record Found(Path path, long size, FileTime modified) {
        }
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> mailboxes = Files.newDirectoryStream(entriesDir)) {
            for (Path mailbox : mailboxes) {
                if (!Files.isDirectory(mailbox)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(mailbox)) {
                    for (Path f : files) {
                        if (ENTRY_NAME.matcher(f.getFileName().toString()).matches()) {
                            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                            found.add(new Found(f, a.size(), a.lastModifiedTime()));
                        }
                    }
                }
            }
        }
        found.sort(Comparator.comparing(Found::modified));
        synchronized (lock) {
            for (Found f : found) {
                index.put(f.path(), f.size());
                totalBytes += f.size();
            }
            evict(null);
        }
    }

    /**
     * Creates {@code dir} and every missing directory above it owner-only (SECURITY.md 23): a parent made with the
     * process's umask (0755 under the usual 022) would make the daemon refuse its own data directory at next start.
     */
    private static void privateDirectory(Path dir) throws IOException {
        Path missing = dir.toAbsolutePath();
        java.util.ArrayDeque<Path> toCreate = new java.util.ArrayDeque<>();
        while (missing != null && !Files.isDirectory(missing)) {
            toCreate.push(missing);
            missing = missing.getParent();
        }
        for (Path d : toCreate) {
            try {
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(DIR_PERMISSIONS));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // made by another session meanwhile; its mode is set below like ours
            }
            Files.setPosixFilePermissions(d, DIR_PERMISSIONS);
        }
        Files.setPosixFilePermissions(dir, DIR_PERMISSIONS);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(root)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
