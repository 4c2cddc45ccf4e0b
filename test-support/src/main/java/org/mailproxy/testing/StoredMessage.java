package org.mailproxy.testing;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One message as Dovecot stored it in a maildir: the exact bytes of the file (Dovecot is configured to keep the
 * CRLF line ends it received, so these are the bytes IMAP serves), plus what the file name and Dovecot's UID list
 * say about it.
 *
 * @param uid     the IMAP UID from {@code dovecot-uidlist}, or {@code -1} when Dovecot has not listed it yet
 * @param file    the maildir file
 * @param flags   the maildir flag letters after {@code :2,} (S seen, R answered, F flagged, T deleted, D draft)
 * @param content the stored bytes; the array is this record's own, do not modify it
 */
public record StoredMessage(long uid, Path file, String flags, byte[] content) {

    /** The content decoded as UTF-8 (messages that are not UTF-8 still decode, with replacement characters). */
    public String text() {
        return new String(content, StandardCharsets.UTF_8);
    }

    /** Whether the message carries the IMAP {@code \Seen} flag. */
    public boolean seen() {
        return flags.indexOf('S') >= 0;
    }

    /**
     * The value of the first header field with this name (case-insensitive), unfolded, or {@code null}.
     * Only the header section is searched.
     */
    public String header(String name) {
        String text = text();
        int end = text.indexOf("\r\n\r\n");
        if (end < 0) {
            end = text.indexOf("\n\n");
        }
        String head = end < 0 ? text : text.substring(0, end);
        String unfolded = head.replaceAll("\r?\n[ \t]+", " ");
        for (String line : unfolded.split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "StoredMessage[uid=" + uid + ", file=" + file.getFileName() + ", flags=" + flags + ", "
                + content.length + " bytes]";
    }
}
