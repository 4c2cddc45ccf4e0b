package org.mailproxy.testing;

/**
 * The test mail stack cannot run on this machine (not Linux, not root, packages missing and not installable).
 * Tests turn this into a skip with the message as the visible reason; any other start failure is an error.
 */
public final class MailStackUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public MailStackUnavailableException(String reason) {
        super(reason);
    }
}
