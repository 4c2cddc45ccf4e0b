package org.mailproxy.core.crypto.openpgp;

/**
 * The one failure a caller ever sees from decryption. Its message is always {@link #MESSAGE}: a wrong key, a broken
 * MDC, a bad AEAD tag, truncation, a malformed packet and an exceeded limit must be indistinguishable to whoever
 * sent the message (RFC 9580 §13.4-13.5, SECURITY.md 3). The reason is kept only for the local log and carries no
 * message content.
 */
public final class DecryptionFailedException extends Exception {
    /** The text every decryption failure carries. */
    public static final String MESSAGE = "The message could not be decrypted.";

    private final String internalReason;

    public DecryptionFailedException(String internalReason, Throwable cause) {
        // the cause is kept for local diagnostics only; never surfaced to a peer
        super(MESSAGE, cause, false, false);
        this.internalReason = internalReason;
    }

    public DecryptionFailedException(String internalReason) {
        this(internalReason, null);
    }

    /** A short category for the local log (for example "integrity", "limit", "malformed"); never sent to a peer. */
    public String internalReason() {
        return internalReason;
    }
}
