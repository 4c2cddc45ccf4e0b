package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.openpgp.PGPException;
import org.bouncycastle.openpgp.PGPPrivateKey;
import org.bouncycastle.openpgp.api.OpenPGPCertificate;
import org.bouncycastle.openpgp.api.OpenPGPKey;

import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An account key whose secret parts are decrypted in memory, for decrypting and signing. Obtained from
 * {@link Keyring#unlock}; {@link #close()} drops the private keys.
 */
public final class UnlockedKey implements AutoCloseable {
    private final OpenPGPKey key;
    private final Map<Long, PGPPrivateKey> privateKeys;

    private UnlockedKey(OpenPGPKey key, Map<Long, PGPPrivateKey> privateKeys) {
        this.key = key;
        this.privateKeys = privateKeys;
    }

    static UnlockedKey unlock(OpenPGPKey key, char[] passphrase) throws KeyException {
        Map<Long, PGPPrivateKey> out = new LinkedHashMap<>();
        for (OpenPGPKey.OpenPGPSecretKey sk : key.getSecretKeys().values()) {
            if (sk.getPGPSecretKey().isPrivateKeyEmpty()) {
                continue; // gpg stub (offline primary key)
            }
            try {
                OpenPGPKey.OpenPGPPrivateKey pk = sk.isLocked() ? sk.unlock(passphrase) : sk.unlock();
                out.put(sk.getKeyIdentifier().getKeyId(), pk.getKeyPair().getPrivateKey());
            } catch (PGPException e) {
                throw new KeyException("wrong passphrase for " + Keyring.fingerprint(key), e);
            }
        }
        if (out.isEmpty()) {
            throw new KeyException("no usable secret key material in " + Keyring.fingerprint(key));
        }
        return new UnlockedKey(key, out);
    }

    public String fingerprint() {
        return Keyring.fingerprint(key);
    }

    @Override
    public void close() {
        privateKeys.clear();
    }

    OpenPGPCertificate certificate() {
        return key;
    }

    PGPPrivateKey privateKey(long keyId) {
        return privateKeys.get(keyId);
    }

    /** The newest valid signing (sub)key whose secret is unlocked. */
    OpenPGPCertificate.OpenPGPComponentKey signingKey() throws KeyException {
        List<OpenPGPCertificate.OpenPGPComponentKey> keys = key.getSigningKeys(new Date());
        OpenPGPCertificate.OpenPGPComponentKey best = null;
        for (OpenPGPCertificate.OpenPGPComponentKey k : keys) {
            if (privateKeys.containsKey(k.getKeyIdentifier().getKeyId())
                    && (best == null || k.getCreationTime().after(best.getCreationTime()))) {
                best = k;
            }
        }
        if (best == null) {
            throw new KeyException("no valid signing key in " + fingerprint());
        }
        return best;
    }
}
