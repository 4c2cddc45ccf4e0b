package org.mailproxy.core.cache;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The at-rest format of one cache entry, and the AES-256-GCM (NIST SP 800-38D) that protects it.
 *
 * <pre>
 *   "MPC1" | salt (32) | chunk 0 | chunk 1 | ... | chunk n-1 | metadata (m + 16) | m (4, big-endian)
 * </pre>
 * Content is cut into {@link #CHUNK} octets of plaintext per chunk (the last one shorter, possibly empty, so there
 * is always at least one); each chunk is sealed on its own so a reader can start at any offset and decrypt only the
 * chunks it needs (IMAP partial fetches, RFC 3501 §6.4.5 {@code BODY[]<origin.count>}).
 * <ul>
 * <li>Key: HMAC-SHA256(data key, salt) with a fresh random salt per file, so no two files share a key and a
 *     nonce can never repeat across files (the reason for a per-file key rather than random nonces: SP 800-38D
 *     §8.3 limits random 96-bit nonces under one key).</li>
 * <li>Nonce: kind (1 octet) | 0 0 0 | chunk index (8): unique within the file.</li>
 * <li>AAD: kind | mailbox id | UIDVALIDITY | UID | chunk index (or, for the metadata, the content size) | last flag.
 *     The entry's identity stops a file from being moved to another entry's name; the index stops reordering; the
 *     last flag stops truncation at a chunk boundary and extension; the content size under the metadata's tag
 *     authenticates {@code size()} before any content is read.</li>
 * </ul>
 */
final class EntryCipher {
    static final int CHUNK = 1 << 16;
    static final int TAG = 16;
    static final int SALT = 32;
    static final byte[] MAGIC = "MPC1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER = MAGIC.length + SALT;
    static final int TRAILER_LENGTH_FIELD = 4;

    private static final byte KIND_CHUNK = 1;
    private static final byte KIND_METADATA = 2;

    private final SecretKeySpec key;
    private final byte[] identity;
    private final Cipher cipher;

    /**
     * @param dataKey  the cache's data key
     * @param salt     this file's random salt
     * @param identity mailbox id | UIDVALIDITY | UID, see {@link EntryKey#identity()}
     */
    static EntryCipher forFile(byte[] dataKey, byte[] salt, byte[] identity) {
        byte[] k = hmac(dataKey, salt);
        try {
            return new EntryCipher(new SecretKeySpec(k, "AES"), identity.clone());
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    /** Another instance with the same key: a {@link Cipher} serves one thread, so each stream gets its own. */
    EntryCipher fresh() {
        return new EntryCipher(key, identity);
    }

    private EntryCipher(SecretKeySpec key, byte[] identity) {
        this.key = key;
        this.identity = identity;
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM unavailable", e);
        }
    }

    /** Number of chunks that hold {@code size} octets of content. */
    static long chunks(long size) {
        return size == 0 ? 1 : (size + CHUNK - 1) / CHUNK;
    }

    /** Ciphertext octets of {@code size} octets of content. */
    static long sealedLength(long size) {
        return size + chunks(size) * TAG;
    }

    /** The content size whose sealed form is {@code sealed} octets long, or -1 if no size gives that length. */
    static long contentSize(long sealed) {
        long n = (sealed + CHUNK + TAG - 1) / (CHUNK + TAG);
        long size = sealed - n * TAG;
        return size >= 0 && sealedLength(size) == sealed ? size : -1;
    }

    /** File offset of chunk {@code index}. */
    static long chunkOffset(long index) {
        return HEADER + index * (CHUNK + TAG);
    }

    /** Seals {@code len} octets as chunk {@code index}; writes {@code len + TAG} octets to {@code out}. */
    int sealChunk(long index, boolean last, byte[] in, int off, int len, byte[] out) {
        return run(Cipher.ENCRYPT_MODE, KIND_CHUNK, index, last, in, off, len, out);
    }

    /** Opens chunk {@code index}; returns the plaintext length. */
    int openChunk(long index, boolean last, byte[] in, int len, byte[] out) throws AEADBadTagException {
        return open(KIND_CHUNK, index, last, in, len, out);
    }

    byte[] sealMetadata(long contentSize, byte[] metadata) {
        byte[] out = new byte[metadata.length + TAG];
        run(Cipher.ENCRYPT_MODE, KIND_METADATA, contentSize, true, metadata, 0, metadata.length, out);
        return out;
    }

    byte[] openMetadata(long contentSize, byte[] sealed) throws AEADBadTagException {
        byte[] out = new byte[sealed.length - TAG];
        open(KIND_METADATA, contentSize, true, sealed, sealed.length, out);
        return out;
    }

    private int open(byte kind, long index, boolean last, byte[] in, int len, byte[] out) throws AEADBadTagException {
        try {
            init(Cipher.DECRYPT_MODE, kind, index, last);
            return cipher.doFinal(in, 0, len, out, 0);
        } catch (AEADBadTagException e) {
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM failed", e);
        }
    }

    private int run(int mode, byte kind, long index, boolean last, byte[] in, int off, int len, byte[] out) {
        try {
            init(mode, kind, index, last);
            return cipher.doFinal(in, off, len, out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM failed", e);
        }
    }

    private void init(int mode, byte kind, long index, boolean last) throws GeneralSecurityException {
        byte[] nonce = ByteBuffer.allocate(12).put(kind).put(new byte[3]).putLong(index).array();
        cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
        cipher.updateAAD(ByteBuffer.allocate(1 + identity.length + 8 + 1)
                .put(kind).put(identity).putLong(index).put((byte) (last ? 1 : 0)).array());
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
