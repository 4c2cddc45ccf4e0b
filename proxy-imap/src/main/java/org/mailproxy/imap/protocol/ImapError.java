package org.mailproxy.imap.protocol;

import java.util.Objects;

/**
 * A protocol error as a value: the status (NO, BAD, BYE), an optional response code (RFC 9051 section 7.1) and a
 * human-readable text. {@link ImapReplies#render} is the one place that turns it into bytes.
 */
public record ImapError(Status status, String code, String text) {

    public enum Status { NO, BAD, BYE }

    public ImapError {
        Objects.requireNonNull(status);
        Objects.requireNonNull(text);
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0 || (code != null && (code.indexOf('\r') >= 0 || code.indexOf('\n') >= 0))) {
            throw new IllegalArgumentException("CR or LF in an IMAP response text");
        }
    }

    public static ImapError bad(String text) {
        return new ImapError(Status.BAD, null, text);
    }

    public static ImapError no(String text) {
        return new ImapError(Status.NO, null, text);
    }

    /** RFC 9051 7.1: the command or a literal in it is larger than the proxy accepts. */
    public static ImapError tooBig(String text) {
        return new ImapError(Status.NO, "TOOBIG", text);
    }

    /** RFC 5530 3: a temporary failure (the provider is unreachable, its certificate did not verify). */
    public static ImapError unavailable(String text) {
        return new ImapError(Status.NO, "UNAVAILABLE", text);
    }

    /** RFC 5530 3: a mechanism or action the proxy cannot perform. */
    public static ImapError cannot(String text) {
        return new ImapError(Status.NO, "CANNOT", text);
    }

    /** RFC 5530 3: the generic temporary failure for anything unexpected; details go to the log, never the wire. */
    public static ImapError serverBug() {
        return new ImapError(Status.NO, "SERVERBUG", "Internal proxy error, try again");
    }

    public static ImapError bye(String text) {
        return new ImapError(Status.BYE, null, text);
    }
}
