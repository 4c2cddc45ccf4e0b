package org.mailproxy.core.crypto.openpgp;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What {@code mailproxy keys list} shows about one certificate.
 *
 * @param fingerprint upper-case hex fingerprint of the primary key
 * @param version     key packet version (4 or 6)
 * @param userIds     user IDs with a valid self-signature (all user IDs when none is valid now: revoked, expired)
 * @param secret      whether the keyring holds the secret key
 * @param created     creation time of the primary key
 * @param expires     expiry of the certificate, if any
 * @param revoked     whether the certificate carries a revocation self-signature
 * @param canEncrypt  whether a valid, unexpired encryption (sub)key exists now
 * @param canSign     whether a valid, unexpired signing (sub)key exists now
 */
public record KeyInfo(String fingerprint, int version, List<String> userIds, boolean secret, Instant created,
                      Optional<Instant> expires, boolean revoked, boolean canEncrypt, boolean canSign) {
    public KeyInfo {
        userIds = List.copyOf(userIds);
    }

    /** Usable as an encryption recipient now. */
    public boolean usable() {
        return !revoked && canEncrypt;
    }
}
