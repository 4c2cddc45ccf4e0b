package org.mailproxy.smtp.transform;

import java.util.List;

/**
 * The transaction a message belongs to: the reverse path and the recipients the upstream accepted, as the client
 * wrote them in {@code MAIL FROM:} and {@code RCPT TO:} (angle brackets included, parameters left out). An
 * encrypting transform needs these to pick keys; Bcc recipients appear here and never in headers (SECURITY.md 15).
 */
public record Envelope(String reversePath, List<String> recipients) {
    public Envelope {
        recipients = List.copyOf(recipients);
    }
}
