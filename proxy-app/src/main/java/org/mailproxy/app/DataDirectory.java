package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import org.mailproxy.config.MailproxyConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The daemon's data directory (keys, caches, the generated local certificate). It is created owner-only when
 * missing, and the daemon refuses to start when it, or anything in it, can be read or written by the group or by
 * other users (SECURITY.md 23): the keys there unlock the user's mail.
 */
final class DataDirectory {

    private static final Set<PosixFilePermission> EXPOSED = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private static final String SETTING = "mailproxy.data-dir";

    private DataDirectory() {
    }

    /** Creates the directory (0700) when missing, then {@link #verify verifies} it. */
    static Path prepare(MailproxyConfig config) {
        Path dir = config.dataDir();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                createOwnerOnly(dir);
            } catch (IOException e) {
                throw new ConfigError(config.describe(SETTING) + ": cannot create " + dir + ": " + e.getMessage(), e);
            }
        }
        verify(config);
        return dir;
    }

    /** Creates {@code dir} and missing parents; the last one owner-only. */
    static void createOwnerOnly(Path dir) throws IOException {
        if (dir.getParent() != null) {
            Files.createDirectories(dir.getParent());
        }
        if (posix()) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            // The umask may have removed bits, never added them; set the mode exactly anyway.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } else {
            Files.createDirectory(dir);
        }
    }

    /**
     * Refuses a data directory that is not a directory, or that exposes itself or any entry to group or others.
     * Symbolic links are not followed (their own mode means nothing on POSIX systems).
     */
    static void verify(MailproxyConfig config) {
        Path dir = config.dataDir();
        if (!Files.isDirectory(dir)) {
            throw new ConfigError(config.describe(SETTING) + ": " + dir + " is not a directory");
        }
        if (!posix()) {
            return;
        }
        Optional<String> problem;
        try {
            // A data directory reached through a symbolic link is checked where it really is.
            problem = firstExposed(dir.toRealPath());
        } catch (IOException | UncheckedIOException e) {
            throw new ConfigError(config.describe(SETTING) + ": cannot read " + dir + ": " + e.getMessage(), e);
        }
        problem.ifPresent(p -> {
            throw new ConfigError(config.describe(SETTING) + ": " + p);
        });
    }

    private static Optional<String> firstExposed(Path dir) throws IOException {
        try (Stream<Path> entries = Files.walk(dir)) {
            for (Iterator<Path> it = entries.iterator(); it.hasNext(); ) {
                Path p = it.next();
                PosixFileAttributes attrs = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attrs.isSymbolicLink()) {
                    continue;
                }
                Set<PosixFilePermission> perms = attrs.permissions();
                if (perms.stream().anyMatch(EXPOSED::contains)) {
                    return Optional.of(p + " is accessible to " + who(perms) + " (mode "
                            + PosixFilePermissions.toString(perms) + "); it holds keys and mail. Fix it with: chmod "
                            + (p.equals(dir) ? "-R " : "") + "go-rwx " + shellQuote(p));
                }
            }
        }
        return Optional.empty();
    }

    private static String who(Set<PosixFilePermission> perms) {
        boolean group = perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.GROUP_WRITE);
        boolean others = perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.OTHERS_WRITE);
        return group && others ? "its group and other users" : group ? "its group" : "other users";
    }

    /** Narrows a file the daemon itself wrote (such as the generated local certificate) to owner-only. */
    static void restrict(Path file) throws IOException {
        if (posix() && Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            perms.removeAll(EXPOSED);
            perms.remove(PosixFilePermission.GROUP_EXECUTE);
            perms.remove(PosixFilePermission.OTHERS_EXECUTE);
            Files.setPosixFilePermissions(file, perms);
        }
    }

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }

    static String shellQuote(Path p) {
        String s = p.toString();
        return s.matches("[A-Za-z0-9_./@%+=:,-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
