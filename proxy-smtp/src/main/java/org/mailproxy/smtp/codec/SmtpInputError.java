package org.mailproxy.smtp.codec;

/** A client line that is not a command; the decoder emits it in place of a {@link SmtpRequest}. */
public enum SmtpInputError {
    /** A command line longer than the configured maximum; it was discarded up to its LF. */
    LINE_TOO_LONG,
    /** A line ended by a bare LF, or holding a CR or NUL inside (RFC 5321 2.3.8). */
    BAD_LINE_ENDING,
    /** An HTTP request line or header: a browser was made to talk to us (SECURITY.md 16). The decoder stops. */
    HTTP_REQUEST;

    /** The reply for this error; HTTP_REQUEST gets none, the connection closes. */
    public SmtpReply reply() {
        return switch (this) {
            case LINE_TOO_LONG -> SmtpReplies.lineTooLong();
            case BAD_LINE_ENDING -> SmtpReplies.badLineEnding();
            case HTTP_REQUEST -> throw new IllegalStateException("no reply to HTTP, close");
        };
    }
}
