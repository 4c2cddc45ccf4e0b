package org.mailproxy.core.auth;

/** Why the proxy cannot log in to the provider for a client that passed local authentication. */
public final class LocalAuthException extends Exception {

    /** What the client is told, in the protocol's terms: all are temporary for the client (the operator fixes them). */
    public enum Reason {
        /** The account's key is locked, so the stored provider login cannot be decrypted. */
        KEY_LOCKED,
        /** No provider login is stored, or it was sealed to a key the account no longer has. */
        NO_PROVIDER_LOGIN,
        /** data-dir could not be read. */
        UNREADABLE
    }

    private final Reason reason;

    public LocalAuthException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
