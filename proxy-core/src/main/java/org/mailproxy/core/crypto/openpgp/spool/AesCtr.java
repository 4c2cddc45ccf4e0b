package org.mailproxy.core.crypto.openpgp.spool;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.GeneralSecurityException;

/**
 * AES in counter mode addressed by byte position: counter block = 8-byte random nonce || 64-bit block index
 * (NIST SP 800-38A §6.5). The keystream comes from AES/ECB over a run of counter blocks, which the JDK runs on the
 * CPU's AES instructions; its own AES/CTR is several times slower here. Not thread-safe.
 */
final class AesCtr {
    private static final int CHUNK = 1 << 16;
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final Cipher ecb;
    private final long nonce;
    private final byte[] counters = new byte[CHUNK + 16];
    private final byte[] keystream = new byte[CHUNK + 16];

    AesCtr(SecretKey key, long nonce) throws GeneralSecurityException {
        this.ecb = Cipher.getInstance("AES/ECB/NoPadding");
        this.ecb.init(Cipher.ENCRYPT_MODE, key);
        this.nonce = nonce;
    }

    /** XORs the keystream for stream positions {@code position .. position+len} into {@code b}. */
    void apply(byte[] b, int off, int len, long position) {
        try {
            while (len > 0) {
                long block = position >>> 4;
                int skip = (int) (position & 15);
                int n = Math.min(len, CHUNK - skip);
                int blocks = (skip + n + 15) >>> 4;
                for (int i = 0; i < blocks; i++) {
                    LONG.set(counters, i * 16, nonce);
                    LONG.set(counters, i * 16 + 8, block + i);
                }
                ecb.update(counters, 0, blocks * 16, keystream, 0);
                int j = 0;
                for (; j + 8 <= n; j += 8) {
                    LONG.set(b, off + j, (long) LONG.get(b, off + j) ^ (long) LONG.get(keystream, skip + j));
                }
                for (; j < n; j++) {
                    b[off + j] ^= keystream[skip + j];
                }
                off += n;
                len -= n;
                position += n;
            }
        } catch (ShortBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
