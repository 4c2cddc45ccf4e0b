package org.mailproxy.core.crypto.openpgp;

import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What decrypting one OpenPGP message gave. Only produced after the whole ciphertext was read and its integrity
 * (MDC or every AEAD tag) confirmed, so {@link #plaintext()} is safe to release (SECURITY.md 1). When none of the
 * message's recipients is ours, {@link #forUs()} is false and there is no plaintext: the message is passed on as is.
 * Closing the result deletes the plaintext spool.
 */
public final class DecryptionResult implements AutoCloseable {
    private final boolean forUs;
    private final List<String> recipientKeyIds;
    private final String decryptionKeyId;
    private final boolean aead;
    private final List<SignatureResult> signatures;
    private final Spool plaintext;

    DecryptionResult(boolean forUs, List<String> recipientKeyIds, String decryptionKeyId, boolean aead,
                     List<SignatureResult> signatures, Spool plaintext) {
        this.forUs = forUs;
        this.recipientKeyIds = List.copyOf(recipientKeyIds);
        this.decryptionKeyId = decryptionKeyId;
        this.aead = aead;
        this.signatures = List.copyOf(signatures);
        this.plaintext = plaintext;
    }

    static DecryptionResult notForUs(List<String> recipientKeyIds) {
        return new DecryptionResult(false, recipientKeyIds, null, false, List.of(), null);
    }

    /** Always true: this object exists only for encrypted input. */
    public boolean encrypted() {
        return true;
    }

    /** Whether one of our keys could decrypt the message. */
    public boolean forUs() {
        return forUs;
    }

    /** True whenever there is plaintext: integrity failures throw instead. */
    public boolean integrityOk() {
        return forUs;
    }

    /** SEIPDv2 (AEAD) rather than SEIPDv1 with MDC. */
    public boolean aead() {
        return aead;
    }

    /** Key IDs (16 hex digits, 0000000000000000 for anonymous) the message was encrypted to. */
    public List<String> recipientKeyIds() {
        return recipientKeyIds;
    }

    /** The key ID of our subkey that decrypted it. */
    public Optional<String> decryptionKeyId() {
        return Optional.ofNullable(decryptionKeyId);
    }

    public List<SignatureResult> signatures() {
        return signatures;
    }

    /** The literal data, integrity-checked; empty when {@link #forUs()} is false. */
    public Optional<Spool> plaintext() {
        return Optional.ofNullable(plaintext);
    }

    @Override
    public void close() throws IOException {
        if (plaintext != null) {
            plaintext.close();
        }
    }
}
