package org.mailproxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads a Dovecot maildir (Maildir++ layout: INBOX at the root, folder {@code a/b} in {@code .a.b}) without going
 * through Dovecot, so tests see what was really stored. The parsing helpers also serve the container stack, which
 * reads the same files through the container engine.
 */
final class Maildir {

    static final int ATTEMPTS = 5;

    private final Path root;

    Maildir(Path root) {
        this.root = root;
    }

    /** The directory of a folder relative to the maildir root: {@code ""} for INBOX, {@code .Sent} for Sent. */
    static String folderSuffix(String folder) {
        if (folder.equalsIgnoreCase("INBOX")) {
            return "";
        }
        if (folder.isEmpty() || folder.startsWith(".") || folder.startsWith("/") || folder.contains("..")
                || folder.contains("\0")) {
            throw new IllegalArgumentException("bad folder name: " + folder);
        }
        return "." + folder.replace('/', '.');
    }

    Path folderDir(String folder) {
        String suffix = folderSuffix(folder);
        return suffix.isEmpty() ? root : root.resolve(suffix);
    }

    /**
     * The messages of a folder in UID order (unlisted ones last, by file name). Dovecot renames files from new/ to
     * cur/ while sessions run, so a listing that loses a file to a rename is simply read again.
     */
    List<StoredMessage> messages(String folder) {
        Path dir = folderDir(folder);
        for (int attempt = 1; ; attempt++) {
            try {
                return read(dir);
            } catch (NoSuchFileException e) {
                if (attempt == ATTEMPTS) {
                    throw new UncheckedIOException("maildir kept changing under " + dir, e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read maildir " + dir, e);
            }
        }
    }

    private static List<StoredMessage> read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        Path uidListFile = dir.resolve("dovecot-uidlist");
        Map<String, Long> uids = new HashMap<>();
        try {
            uids = parseUidList(Files.readAllLines(uidListFile));
        } catch (NoSuchFileException e) {
            // no message listed yet
        }
        List<StoredMessage> result = new ArrayList<>();
        for (String sub : List.of("new", "cur")) {
            Path subDir = dir.resolve(sub);
            if (!Files.isDirectory(subDir)) {
                continue;
            }
            List<Path> files;
            try (Stream<Path> list = Files.list(subDir)) {
                files = list.filter(Files::isRegularFile).toList();
            }
            for (Path file : files) {
                result.add(message(file, Files.readAllBytes(file), uids));
            }
        }
        return sorted(result);
    }

    /** A stored message from its maildir file name ({@code <base>[:2,<flags>]}) and the parsed UID list. */
    static StoredMessage message(Path file, byte[] content, Map<String, Long> uids) {
        String name = file.getFileName().toString();
        int info = name.indexOf(":2,");
        String base = info < 0 ? name : name.substring(0, info);
        String flags = info < 0 ? "" : name.substring(info + 3);
        return new StoredMessage(uids.getOrDefault(base, -1L), file, flags, content);
    }

    static List<StoredMessage> sorted(List<StoredMessage> messages) {
        List<StoredMessage> result = new ArrayList<>(messages);
        result.sort(Comparator.comparingLong((StoredMessage m) -> m.uid() < 0 ? Long.MAX_VALUE : m.uid())
                .thenComparing(m -> m.file().getFileName().toString()));
        return List.copyOf(result);
    }

    /** {@code dovecot-uidlist}: a header line, then {@code <uid> [extensions] :<base file name>} per message. */
    static Map<String, Long> parseUidList(List<String> lines) {
        Map<String, Long> uids = new HashMap<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            int space = line.indexOf(' ');
            int colon = line.indexOf(" :");
            if (space <= 0 || colon < 0) {
                continue;
            }
            try {
                String name = line.substring(colon + 2);
                int info = name.indexOf(":2,");
                uids.put(info < 0 ? name : name.substring(0, info), Long.parseLong(line.substring(0, space)));
            } catch (NumberFormatException ignored) {
                // not a message line
            }
        }
        return uids;
    }
}
