package org.mailproxy.core.mime;

import org.mailproxy.core.crypto.openpgp.DecryptionResult;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of {@link PgpMimeDecryptor#decrypt}: for {@link Kind#DECRYPTED} a complete replacement message
 * (header and body, CRLF) in a spool, to be served instead of the encrypted one, plus what the crypto layer found.
 * Every other kind means "serve the original unchanged" ({@link Kind#PARTIALLY_ENCRYPTED}: with a visible warning,
 * SECURITY.md 4). Closing releases the spools.
 */
public final class DecryptedMessage implements AutoCloseable {

    public enum Kind { DECRYPTED, NOT_FOR_US, NOT_ENCRYPTED, PARTIALLY_ENCRYPTED }

    public enum Format { NONE, PGP_MIME, INLINE }

    /** How the sender protected the header (STANDARDS.md "Header protection"). */
    public enum HeaderProtection { NONE, RFC9788, PROTECTED_HEADERS_V1 }

    private final Kind kind;
    private final Format format;
    private final HeaderProtection headerProtection;
    private final DecryptionResult crypto;
    private final List<SignatureResult> signatures;
    private final Spool message;
    private final String subject;

    DecryptedMessage(Kind kind, Format format, HeaderProtection headerProtection, DecryptionResult crypto,
                     List<SignatureResult> signatures, Spool message, String subject) {
        this.kind = kind;
        this.format = format;
        this.headerProtection = headerProtection;
        this.crypto = crypto;
        this.signatures = List.copyOf(signatures);
        this.message = message;
        this.subject = subject;
    }

    static DecryptedMessage passThrough(Kind kind, Format format, DecryptionResult crypto) {
        return new DecryptedMessage(kind, format, HeaderProtection.NONE, crypto, List.of(), null, null);
    }

    public Kind kind() {
        return kind;
    }

    public Format format() {
        return format;
    }

    public HeaderProtection headerProtection() {
        return headerProtection;
    }

    /** The crypto layer's result (present for DECRYPTED and NOT_FOR_US). */
    public Optional<DecryptionResult> crypto() {
        return Optional.ofNullable(crypto);
    }

    /** Signatures over the whole decrypted entity, with {@code fromMatches} set against the effective From. */
    public List<SignatureResult> signatures() {
        return signatures;
    }

    /** The replacement message; present only for DECRYPTED. */
    public Optional<Spool> message() {
        return Optional.ofNullable(message);
    }

    /** The effective (protected, if any) Subject, unfolded. */
    public Optional<String> subject() {
        return Optional.ofNullable(subject);
    }

    @Override
    public void close() throws IOException {
        try {
            if (message != null) {
                message.close();
            }
        } finally {
            if (crypto != null) {
                crypto.close();
            }
        }
    }
}
