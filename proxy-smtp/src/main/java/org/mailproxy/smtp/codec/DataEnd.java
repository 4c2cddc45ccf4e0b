package org.mailproxy.smtp.codec;

import java.util.Optional;

/**
 * The end of one message's data: the client sent CRLF.CRLF. When the data broke a rule (bare CR or LF, NUL, a line
 * or the message too long), {@link #refusal()} holds the reply; the content after the offending octet was discarded
 * and the message must not be delivered.
 */
public record DataEnd(Optional<SmtpReply> refusal) {

    public static final DataEnd OK = new DataEnd(Optional.empty());

    public static DataEnd refused(SmtpReply reply) {
        return new DataEnd(Optional.of(reply));
    }

    public boolean isRefused() {
        return refusal.isPresent();
    }
}
