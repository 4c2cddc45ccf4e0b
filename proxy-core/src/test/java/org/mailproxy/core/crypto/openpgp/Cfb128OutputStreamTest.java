package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Test;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The CFB encryption through AES/CBC against the JDK's own AES/CFB, on lengths around the block, cipher-step and
 * chunk sizes, written in random splits (single octets included), for every AES key size.
 */
class Cfb128OutputStreamTest {

    private static byte[] jdkCfb(byte[] key, byte[] data) throws Exception {
        Cipher cfb = Cipher.getInstance("AES/CFB/NoPadding");
        cfb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(new byte[16]));
        return cfb.doFinal(data);
    }

    private static byte[] ours(byte[] key, byte[] data, Random rnd) throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (Cfb128OutputStream out = new Cfb128OutputStream(sink, key)) {
            int pos = 0;
            while (pos < data.length) {
                int kind = rnd.nextInt(4);
                if (kind == 0) {
                    out.write(data[pos++]);
                    continue;
                }
                int max = kind == 1 ? 40 : kind == 2 ? 20_000 : 200_000;
                int n = Math.min(data.length - pos, 1 + rnd.nextInt(max));
                out.write(data, pos, n);
                pos += n;
            }
        }
        return sink.toByteArray();
    }

    @Test
    void equalsTheJdksCfbForEveryLengthAroundTheBoundaries() throws Exception {
        Random rnd = new Random(42);
        int[] sizes = {0, 1, 15, 16, 17, 31, 32, 33, 8191, 8192, 8193, 65535, 65536, 65537, 65536 + 15,
                131072 + 16, 300_001, 1 << 20};
        for (int keyBytes : new int[]{16, 24, 32}) {
            byte[] key = new byte[keyBytes];
            rnd.nextBytes(key);
            for (int size : sizes) {
                byte[] data = new byte[size];
                rnd.nextBytes(data);
                for (int round = 0; round < 3; round++) {
                    assertThat(ours(key, data, rnd)).as("key %d, size %d", keyBytes, size)
                            .isEqualTo(jdkCfb(key, data));
                }
            }
        }
    }

    @Test
    void everyLengthUpToFourBlocksInEverySplit() throws Exception {
        Random rnd = new Random(3);
        byte[] key = new byte[32];
        rnd.nextBytes(key);
        for (int size = 0; size <= 64; size++) {
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            byte[] expected = jdkCfb(key, data);
            for (int split = 0; split <= size; split++) {
                ByteArrayOutputStream sink = new ByteArrayOutputStream();
                try (Cfb128OutputStream out = new Cfb128OutputStream(sink, key)) {
                    out.write(data, 0, split);
                    out.write(data, split, size - split);
                }
                assertThat(sink.toByteArray()).as("size %d split %d", size, split).isEqualTo(expected);
            }
        }
    }

    @Test
    void closingClosesTheStreamBelowAndRefusesFurtherWrites() throws Exception {
        boolean[] closed = {false};
        ByteArrayOutputStream sink = new ByteArrayOutputStream() {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        Cfb128OutputStream out = new Cfb128OutputStream(sink, new byte[32]);
        out.write(new byte[5], 0, 5);
        assertThat(sink.size()).as("a short block waits for the end").isZero();
        out.close();
        assertThat(closed[0]).isTrue();
        assertThat(sink.size()).isEqualTo(5);
        assertThatThrownBy(() -> out.write(1)).isInstanceOf(IOException.class);
    }
}
