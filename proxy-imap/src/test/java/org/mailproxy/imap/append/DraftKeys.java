package org.mailproxy.imap.append;

import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/** An account key for the append tests: its keyring, the unlocked key, and decrypting what was stored. */
final class DraftKeys implements AutoCloseable {
    static final char[] PASS = "draft test passphrase".toCharArray();

    final Keyring keyring;
    final KeyInfo alice;
    final UnlockedKey aliceKey;

    DraftKeys(Path dir) throws Exception {
        keyring = Keyring.open(dir.resolve("keys"));
        alice = keyring.generate("alice@example.org", PASS, KeyVersion.V4);
        aliceKey = keyring.unlock(alice.fingerprint(), PassphraseSource.ofChars(PASS));
    }

    DraftEncryptor encryptor(int maxHeader, long maxOutput, Path spoolDir) {
        return new DraftEncryptor(() -> keyring, new DraftEncryptor.Limits(maxHeader, 1 << 20, maxOutput, spoolDir));
    }

    DecryptedMessage decrypt(InputStream stored, Path spoolDir) throws IOException, DecryptionFailedException {
        return new PgpMimeDecryptor(new Decryptor(keyring, List.of(aliceKey), OpenPgpLimits.DEFAULTS, spoolDir),
                new DetachedVerifier(keyring), OpenPgpLimits.DEFAULTS, spoolDir).decrypt(stored);
    }

    @Override
    public void close() {
        aliceKey.close();
    }
}
