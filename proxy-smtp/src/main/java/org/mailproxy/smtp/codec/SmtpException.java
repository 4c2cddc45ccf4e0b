package org.mailproxy.smtp.codec;

/**
 * A failure with the reply the client should get. Thrown by parsers and transforms; the session turns it into the
 * reply in one place. The reply text is ours, never the text of a lower-level exception.
 */
public final class SmtpException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient SmtpReply reply;

    public SmtpException(SmtpReply reply) {
        super(reply.summary(), null, false, false);
        this.reply = reply;
    }

    public SmtpReply reply() {
        return reply;
    }
}
