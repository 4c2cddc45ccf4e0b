package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.bcpg.ArmoredOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ASCII armor (RFC 9580 §6.2) read back to the same octets, whatever the size, line ends and read sizes. */
class ArmorInputStreamTest {

    private static byte[] armor(byte[] data, boolean crlf) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArmoredOutputStream a = ArmoredOutputStream.builder().setVersion("test").build(out)) {
            a.write(data);
        }
        String text = out.toString(StandardCharsets.US_ASCII).replace("\r\n", "\n");
        return (crlf ? text.replace("\n", "\r\n") : text).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] read(byte[] armored, int chunk) throws IOException {
        InputStream in = new ArmorInputStream(new ByteArrayInputStream(armored), 1024);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[chunk];
        int n;
        while ((n = in.read(buf, 0, chunk)) >= 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    @Test
    void whatBouncyCastleArmorsReadsBackForEverySizeAndLineEnd() throws IOException {
        Random random = new Random(7);
        for (int size : new int[]{1, 2, 3, 47, 48, 49, 1000, 65_536, 200_001, 1 << 20}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            for (boolean crlf : new boolean[]{true, false}) {
                for (int chunk : new int[]{1, 7, 8192}) {
                    if (chunk == 1 && size > 70_000) {
                        continue;
                    }
                    assertThat(read(armor(data, crlf), chunk)).as("size %d crlf %s chunk %d", size, crlf, chunk)
                            .isEqualTo(data);
                }
            }
        }
    }

    @Test
    void leadingBlankLinesTrailingSpaceAndAMissingBlankLineAfterTheHeadersAreTolerated() throws IOException {
        String armored = "\r\n\r\n-----BEGIN PGP MESSAGE-----  \r\nAQID\r\n=abcd\r\n-----END PGP MESSAGE-----\r\n";
        assertThat(read(armored.getBytes(StandardCharsets.US_ASCII), 100)).containsExactly(1, 2, 3);
    }

    @Test
    void malformedArmorIsAnError() {
        String[] bad = {
            "no armor at all\r\n",
            "-----BEGIN PGP MESSAGE-----\r\n\r\nAQID\r\n",                      // no END line
            "-----BEGIN PGP MESSAGE-----\r\n\r\nAQ*D\r\n-----END PGP MESSAGE-----\r\n", // not base64
            "-----BEGIN PGP MESSAGE-----\r\n\r\nA=QID\r\n-----END PGP MESSAGE-----\r\n", // padding inside
            "-----BEGIN PGP MESSAGE-----\r\n\r\n" + "A".repeat(2000) + "\r\n-----END PGP MESSAGE-----\r\n",
        };
        for (String b : bad) {
            assertThatThrownBy(() -> read(b.getBytes(StandardCharsets.US_ASCII), 100)).as(b)
                    .isInstanceOf(IOException.class);
        }
    }
}
