package org.mailproxy.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The {@code key} block of an account: which secret key is the account's and where the daemon reads its passphrase
 * at start. The passphrase itself is never in the configuration, argv or the environment (SECURITY.md 23).
 *
 * @param fingerprint          upper-case hex fingerprint of the account's secret key; empty: the single secret key
 *                             with a user ID for the account's address (none or several is reported at unlock time)
 * @param passphraseFile       an owner-only file whose first line is the passphrase (also how a Docker secret under
 *                             {@code /run/secrets} is used); checked when the daemon reads it
 * @param passphraseCredential the name of a systemd credential, read from {@code $CREDENTIALS_DIRECTORY/<name>}
 *                             (systemd.exec(5), {@code LoadCredential=} / {@code LoadCredentialEncrypted=})
 */
public record KeySettings(Optional<String> fingerprint, Optional<Path> passphraseFile,
                          Optional<String> passphraseCredential) {

    /** No key settings: the key is found by address and stays locked until {@code mailproxy keys unlock}. */
    public static final KeySettings NONE = new KeySettings(Optional.empty(), Optional.empty(), Optional.empty());

    public KeySettings {
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(passphraseFile, "passphraseFile");
        Objects.requireNonNull(passphraseCredential, "passphraseCredential");
        if (passphraseFile.isPresent() && passphraseCredential.isPresent()) {
            throw new IllegalArgumentException("passphrase-file and passphrase-credential are exclusive");
        }
    }

    /** Whether the daemon unlocks the key at start (otherwise it waits for {@code mailproxy keys unlock}). */
    public boolean unlocksAtStart() {
        return passphraseFile.isPresent() || passphraseCredential.isPresent();
    }
}
