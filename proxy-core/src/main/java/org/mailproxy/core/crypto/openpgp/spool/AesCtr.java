package org.mailproxy.core.crypto.openpgp.spool;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;

/**
 * AES in counter mode addressed by byte position: counter block = 8-byte random nonce || 64-bit block index
 * (NIST SP 800-38A §6.5). Each stream gets the JDK's own AES/CTR started at its position: the JDK generates the
 * keystream several blocks at a time on the CPU's AES instructions and XORs it in the same pass, so no Java loop
 * touches the data. The nonce is fresh per spool key and a spool never reaches 2^64 blocks, so the counter never
 * carries into the nonce.
 */
final class AesCtr {
    private final SecretKey key;
    private final long nonce;

    AesCtr(SecretKey key, long nonce) {
        this.key = key;
        this.nonce = nonce;
    }

    /** A cipher whose next output octet is the keystream octet at {@code position}. */
    Cipher at(long position) {
        try {
            Cipher c = Cipher.getInstance("AES/CTR/NoPadding");
            byte[] iv = ByteBuffer.allocate(16).putLong(nonce).putLong(position >>> 4).array();
            c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
            int skip = (int) (position & 15);
            if (skip > 0) {
                c.update(new byte[skip]);
            }
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/CTR unavailable", e);
        }
    }
}
