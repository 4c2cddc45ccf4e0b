package org.mailproxy.core.crypto.openpgp;

import java.util.Date;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds the certificate to encrypt to for a mail address. The local keyring answers today; key discovery (WKD,
 * keyservers, Autocrypt) can answer later behind this interface without the callers changing.
 */
@FunctionalInterface
public interface KeyLookup {

    /**
     * The fingerprint of a certificate whose user ID carries this address and that has an encryption key valid now
     * (not revoked, not expired, properly bound), or empty. With several, the most recently created wins.
     */
    Optional<String> encryptionKeyFor(String address);

    /** Looks up certificates in the keyring. */
    static KeyLookup keyring(Keyring keyring) {
        return address -> {
            String a = address.trim().toLowerCase(Locale.ROOT);
            String best = null;
            Date bestCreated = null;
            for (String fpr : keyring.fingerprintsFor(a)) {
                var cert = keyring.certificate(fpr);
                if (cert == null) {
                    continue;
                }
                try {
                    Encryptor.encryptionKey(cert);
                } catch (KeyException e) {
                    continue;
                }
                Date created = cert.getPrimaryKey().getCreationTime();
                if (bestCreated == null || created.after(bestCreated)) {
                    best = fpr;
                    bestCreated = created;
                }
            }
            return Optional.ofNullable(best);
        };
    }
}
