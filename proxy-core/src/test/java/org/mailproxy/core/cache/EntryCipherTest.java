package org.mailproxy.core.cache;

import org.junit.jupiter.api.Test;

import javax.crypto.AEADBadTagException;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.core.cache.CacheTestSupport.random;

/** The chunk format on its own: what each tag binds, and the size arithmetic the reader relies on. */
class EntryCipherTest {
    private static final int CHUNK = EntryCipher.CHUNK;
    private static final byte[] DATA_KEY = random(1, 32);
    private static final byte[] SALT = random(2, EntryCipher.SALT);
    private static final byte[] IDENTITY = new EntryKey(random(3, 16), 7, 42).identity();

    @Test
    void chunkOpensOnlyAtItsIndexWithItsLastFlagUnderItsIdentityAndSalt() throws Exception {
        byte[] plain = random(4, 1000);
        byte[] sealed = new byte[plain.length + EntryCipher.TAG];
        EntryCipher cipher = EntryCipher.forFile(DATA_KEY, SALT, IDENTITY);
        assertThat(cipher.sealChunk(5, false, plain, 0, plain.length, sealed)).isEqualTo(sealed.length);

        byte[] out = new byte[CHUNK];
        assertThat(cipher.fresh().openChunk(5, false, sealed, sealed.length, out)).isEqualTo(plain.length);
        assertThat(Arrays.copyOf(out, plain.length)).isEqualTo(plain);

        assertThatThrownBy(() -> cipher.fresh().openChunk(4, false, sealed, sealed.length, out))
                .isInstanceOf(AEADBadTagException.class);
        assertThatThrownBy(() -> cipher.fresh().openChunk(5, true, sealed, sealed.length, out))
                .as("a middle chunk presented as the last one (truncation)").isInstanceOf(AEADBadTagException.class);
        EntryCipher otherEntry = EntryCipher.forFile(DATA_KEY, SALT, new EntryKey(random(3, 16), 7, 43).identity());
        assertThatThrownBy(() -> otherEntry.openChunk(5, false, sealed, sealed.length, out))
                .isInstanceOf(AEADBadTagException.class);
        EntryCipher otherSalt = EntryCipher.forFile(DATA_KEY, random(9, EntryCipher.SALT), IDENTITY);
        assertThatThrownBy(() -> otherSalt.openChunk(5, false, sealed, sealed.length, out))
                .isInstanceOf(AEADBadTagException.class);
    }

    @Test
    void metadataTagBindsTheContentSize() throws Exception {
        EntryCipher cipher = EntryCipher.forFile(DATA_KEY, SALT, IDENTITY);
        byte[] sealed = cipher.sealMetadata(1234, random(5, 10));
        assertThat(cipher.fresh().openMetadata(1234, sealed)).isEqualTo(random(5, 10));
        assertThatThrownBy(() -> cipher.fresh().openMetadata(1235, sealed)).isInstanceOf(AEADBadTagException.class);
    }

    @Test
    void sealedLengthAndContentSizeAreInverse() {
        long[] sizes = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2L * CHUNK, 5L * CHUNK + 7, 300L << 20};
        for (long size : sizes) {
            assertThat(EntryCipher.contentSize(EntryCipher.sealedLength(size))).as("size %d", size).isEqualTo(size);
        }
        assertThat(EntryCipher.sealedLength(0)).isEqualTo(EntryCipher.TAG);
        assertThat(EntryCipher.chunks(CHUNK)).isEqualTo(1);
        assertThat(EntryCipher.chunks(CHUNK + 1)).isEqualTo(2);
        // lengths no content produces: less than one tag, or a full chunk plus a lone tag
        assertThat(EntryCipher.contentSize(EntryCipher.TAG - 1)).isEqualTo(-1);
        assertThat(EntryCipher.contentSize(CHUNK + EntryCipher.TAG + EntryCipher.TAG)).isEqualTo(-1);
        assertThat(EntryCipher.contentSize(-5)).isEqualTo(-1);
    }
}
