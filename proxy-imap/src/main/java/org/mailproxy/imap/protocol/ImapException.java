package org.mailproxy.imap.protocol;

/** Carries an {@link ImapError} through code that fails with exceptions (futures, connectors). */
public final class ImapException extends Exception {
    private final transient ImapError error;

    public ImapException(ImapError error) {
        super(error.text(), null, false, false);
        this.error = error;
    }

    public ImapException(ImapError error, Throwable cause) {
        super(error.text(), cause, false, false);
        this.error = error;
    }

    public ImapError error() {
        return error;
    }
}
