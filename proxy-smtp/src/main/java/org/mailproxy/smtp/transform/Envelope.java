package org.mailproxy.smtp.transform;

import java.util.List;
import java.util.Locale;

/**
 * The transaction a message belongs to: the account the client logged in to, and the reverse path and the
 * recipients the upstream accepted, as the client wrote them in {@code MAIL FROM:} and {@code RCPT TO:} (angle
 * brackets included, parameters left out). An encrypting transform needs these to pick keys; Bcc recipients appear
 * here and never in headers (SECURITY.md 15).
 *
 * @param account the email address of the configured account that sends
 */
public record Envelope(String account, String reversePath, List<String> recipients) {
    public Envelope {
        recipients = List.copyOf(recipients);
    }

    /** The recipients' addresses without angle brackets, lower-cased, duplicates removed. */
    public List<String> recipientAddresses() {
        return recipients.stream().map(Envelope::bare).distinct().toList();
    }

    static String bare(String path) {
        String p = path.trim();
        if (p.startsWith("<") && p.endsWith(">")) {
            p = p.substring(1, p.length() - 1);
        }
        // a source route (RFC 5321 4.1.2, "@relay:user@domain") ends at the colon
        int colon = p.startsWith("@") ? p.indexOf(':') : -1;
        return (colon >= 0 ? p.substring(colon + 1) : p).toLowerCase(Locale.ROOT);
    }
}
