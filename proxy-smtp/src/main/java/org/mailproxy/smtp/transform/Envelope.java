package org.mailproxy.smtp.transform;

import java.util.List;

/**
 * The transaction a message belongs to: the reverse path and the recipients the upstream accepted, as the client
 * wrote them (without the angle brackets' surroundings: {@code MAIL FROM:} and {@code RCPT TO:} parameters). An
 * encrypting transform needs these to pick keys; Bcc recipients appear here and never in headers (SECURITY.md 15).
 */
public record Envelope(String reversePath, List<String> recipients) {
    public Envelope {
        recipients = List.copyOf(recipients);
    }
}
