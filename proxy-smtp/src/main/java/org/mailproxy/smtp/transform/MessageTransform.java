package org.mailproxy.smtp.transform;

/**
 * The seam between the client's message and what goes upstream. For each message the session opens a
 * {@link MessageStream} that receives the unstuffed content in chunks and writes its result to a
 * {@link ContentSink}. Today the transform is {@link IdentityTransform}; signing and PGP/MIME encryption by policy
 * (RFC 3156) plug in here, parsing the headers first (bounded) and streaming the body, so memory stays flat.
 * A transform refuses a message by throwing {@link org.mailproxy.smtp.codec.SmtpException} with a reply that names
 * the reason (SECURITY.md 14, 15); nothing is then delivered.
 */
@FunctionalInterface
public interface MessageTransform {

    /**
     * Called when the client sends DATA, before the upstream is asked for it; must not write to {@code out} yet.
     * Throwing refuses the message with the exception's reply (e.g. 550 naming a recipient without a key).
     */
    MessageStream open(Envelope envelope, ContentSink out) throws org.mailproxy.smtp.codec.SmtpException;

    /**
     * Whether the upstream's DATA waits until the stream has read the header section and said which recipients the
     * first copy goes to ({@link ContentSink#recipients}); the client then gets its 354 from the proxy.
     */
    default boolean decidesRecipients() {
        return false;
    }

    /**
     * The largest message a client may send when the upstream takes {@code upstreamLimit} octets. A transform that
     * makes messages bigger lowers it, so that the SIZE the client sees (RFC 1870) still holds after the change.
     */
    default long inputLimit(long upstreamLimit) {
        return upstreamLimit;
    }

    /** The SIZE to declare upstream for a message the client declared as {@code declared} octets. */
    default long outputSize(long declared) {
        return declared;
    }
}
