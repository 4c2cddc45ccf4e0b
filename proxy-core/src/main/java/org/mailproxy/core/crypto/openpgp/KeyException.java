package org.mailproxy.core.crypto.openpgp;

/** A key could not be generated, imported, unlocked or found; the message names the key, never secret material. */
public final class KeyException extends Exception {
    public KeyException(String message) {
        super(message);
    }

    public KeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
