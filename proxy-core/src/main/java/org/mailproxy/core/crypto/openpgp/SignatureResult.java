package org.mailproxy.core.crypto.openpgp;

import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One signature found in a message.
 *
 * @param status            valid, bad, or made by a key we do not have
 * @param signerKeyId       16 hex digits of the issuing (sub)key
 * @param signerFingerprint primary-key fingerprint of the signer when known (from the keyring or the issuer
 *                          fingerprint subpacket)
 * @param signerUserIds     valid user IDs of the signer's certificate (empty when unknown)
 * @param created           signature creation time
 * @param fromMatches       whether one of {@code signerUserIds} carries the message's From address; only set by
 *                          the MIME layer, which knows From (SECURITY.md 8)
 */
public record SignatureResult(Status status, String signerKeyId, Optional<String> signerFingerprint,
                              List<String> signerUserIds, Optional<Instant> created, boolean fromMatches) {

    public enum Status { VALID, BAD, UNKNOWN_KEY }

    public SignatureResult {
        signerUserIds = List.copyOf(signerUserIds);
    }

    /** Whether this is a valid signature by a key whose user ID carries the From address. */
    public boolean trustworthyFor(String fromAddress) {
        return status == Status.VALID && matches(fromAddress);
    }

    /** A copy with {@link #fromMatches} computed for {@code fromAddress}. */
    public SignatureResult withFrom(String fromAddress) {
        return new SignatureResult(status, signerKeyId, signerFingerprint, signerUserIds, created,
                matches(fromAddress));
    }

    private boolean matches(String fromAddress) {
        if (fromAddress == null) {
            return false;
        }
        String want = fromAddress.trim().toLowerCase(Locale.ROOT);
        return signerUserIds.stream().anyMatch(u -> Keyring.addressOf(u).equals(want));
    }
}
