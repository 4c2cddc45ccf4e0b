package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The SEIPDv1 body decryption against the JDK's own AES/CFB on bodies of every length around the block and chunk
 * sizes, with the ciphertext arriving and the plaintext read in random splits; any changed, missing or extra octet
 * fails the MDC check and the end of the stream is never reported then.
 */
class Seipd1InputStreamTest {
    private static final byte[] KEY = new byte[32];

    static {
        new Random(7).nextBytes(KEY);
    }

    /** Random prefix with its quick-check repeat, the data, then the MDC packet (RFC 9580 §5.13.1), in AES/CFB. */
    private static byte[] seal(byte[] data, Random rnd) throws Exception {
        byte[] prefix = new byte[18];
        rnd.nextBytes(prefix);
        prefix[16] = prefix[14];
        prefix[17] = prefix[15];
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        sha1.update(prefix);
        sha1.update(data);
        sha1.update(new byte[]{(byte) 0xD3, 0x14});
        byte[] body = new byte[18 + data.length + 22];
        System.arraycopy(prefix, 0, body, 0, 18);
        System.arraycopy(data, 0, body, 18, data.length);
        body[18 + data.length] = (byte) 0xD3;
        body[19 + data.length] = 0x14;
        System.arraycopy(sha1.digest(), 0, body, 20 + data.length, 20);
        Cipher cfb = Cipher.getInstance("AES/CFB/NoPadding");
        cfb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(KEY, "AES"), new IvParameterSpec(new byte[16]));
        return cfb.doFinal(body);
    }

    /** Hands out the bytes in random short reads, as a partial-length packet stream does. */
    private static InputStream splitting(byte[] data, Random rnd) {
        return new InputStream() {
            private int pos;

            @Override
            public int read() {
                return pos < data.length ? data[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos == data.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, data.length - pos), 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 90_000));
                System.arraycopy(data, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    private static byte[] readSplit(InputStream in, Random rnd) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[100_000];
        int n;
        while ((n = in.read(buf, 0, 1 + rnd.nextInt(rnd.nextBoolean() ? 33 : buf.length))) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    @Test
    void decryptsEveryLengthInRandomSplits() throws Exception {
        Random rnd = new Random(11);
        int[] sizes = {0, 1, 2, 13, 14, 15, 16, 17, 31, 32, 33, 47, 48, 100, 65_536 - 40, 65_536 - 18, 65_536,
                65_537, 131_072 + 5, 300_001};
        for (int size : sizes) {
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            byte[] body = seal(data, rnd);
            for (int round = 0; round < 3; round++) {
                Seipd1InputStream s = new Seipd1InputStream(splitting(body, rnd), KEY);
                assertThat(readSplit(s, rnd)).as("size %d", size).isEqualTo(data);
                assertThat(s.verified()).isTrue();
                assertThat(s.read()).isEqualTo(-1);
            }
        }
    }

    /** Bodies that end 1 to 23 octets into a new 64 KiB step: the MDC spans the held-back tail and the last step. */
    @Test
    void bodiesEndingJustAfterAStepBoundary() throws Exception {
        Random rnd = new Random(12);
        for (int steps = 1; steps <= 2; steps++) {
            for (int k = 1; k <= 23; k++) {
                byte[] data = new byte[steps * 65_536 + k - 40];
                rnd.nextBytes(data);
                byte[] body = seal(data, rnd);
                Seipd1InputStream s = new Seipd1InputStream(splitting(body, rnd), KEY);
                assertThat(readSplit(s, rnd)).as("%d steps + %d", steps, k).isEqualTo(data);
                assertThat(s.verified()).isTrue();
                byte[] damaged = body.clone();
                damaged[damaged.length - 1 - rnd.nextInt(Math.min(k, 22))] ^= 1;
                Seipd1InputStream bad = new Seipd1InputStream(splitting(damaged, rnd), KEY);
                assertThatThrownBy(() -> readSplit(bad, rnd)).isInstanceOf(IOException.class);
            }
        }
    }

    @Test
    void anyFlippedOctetFailsBeforeTheEnd() throws Exception {
        Random rnd = new Random(12);
        byte[] data = new byte[70_000];
        rnd.nextBytes(data);
        byte[] body = seal(data, rnd);
        for (int at : new int[]{0, 17, 18, 5000, 65_535, 65_536, body.length - 23, body.length - 22,
                body.length - 21, body.length - 1}) {
            byte[] bad = body.clone();
            bad[at] ^= 0x01;
            Seipd1InputStream s = new Seipd1InputStream(splitting(bad, rnd), KEY);
            assertThatThrownBy(() -> readSplit(s, rnd)).as("flip at %d", at).isInstanceOf(IOException.class);
            assertThat(s.verified()).isFalse();
        }
    }

    @Test
    void truncatedOrExtendedBodiesFail() throws Exception {
        Random rnd = new Random(13);
        byte[] data = new byte[5000];
        rnd.nextBytes(data);
        byte[] body = seal(data, rnd);
        for (int len : new int[]{0, 1, 17, 18, 21, 22, 39, 40, body.length - 22, body.length - 1}) {
            Seipd1InputStream s = new Seipd1InputStream(splitting(Arrays.copyOf(body, len), rnd), KEY);
            assertThatThrownBy(() -> readSplit(s, rnd)).as("length %d", len).isInstanceOf(IOException.class);
            assertThat(s.verified()).isFalse();
        }
        byte[] longer = Arrays.copyOf(body, body.length + 1);
        Seipd1InputStream s = new Seipd1InputStream(splitting(longer, rnd), KEY);
        assertThatThrownBy(() -> readSplit(s, rnd)).isInstanceOf(IOException.class);
        assertThat(s.verified()).isFalse();
    }
}
