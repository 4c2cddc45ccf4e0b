package org.mailproxy.core.mime;

import org.apache.james.mime4j.codec.QuotedPrintableInputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The encoder against mime4j's decoder, written in random splits; what it writes is 7-bit with short lines. */
class QuotedPrintableOutputStreamTest {

    private static byte[] encode(byte[] in, Random rnd) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (QuotedPrintableOutputStream qp = new QuotedPrintableOutputStream(out)) {
            int pos = 0;
            while (pos < in.length) {
                int n = Math.min(in.length - pos, rnd.nextBoolean() ? 1 : 1 + rnd.nextInt(300));
                qp.write(in, pos, n);
                pos += n;
            }
        }
        return out.toByteArray();
    }

    private static byte[] decode(byte[] qp) throws IOException {
        return new QuotedPrintableInputStream(new ByteArrayInputStream(qp)).readAllBytes();
    }

    private static void assertSevenBitShortLines(byte[] qp) {
        String s = new String(qp, StandardCharsets.ISO_8859_1);
        assertThat(s.chars()).allMatch(c -> c < 128 && c != 0);
        for (String line : s.split("\r\n", -1)) {
            assertThat(line.length()).as(line).isLessThanOrEqualTo(76);
            assertThat(line).doesNotEndWith(" ").doesNotEndWith("\t").doesNotStartWith("From ");
            assertThat(line).doesNotContain("\r").doesNotContain("\n");
        }
    }

    @Test
    void eightBitTextRoundTripsThroughSevenBitLines() throws Exception {
        String text = "Grüße aus Köln, 3 = drei\r\nFrom here on: trailing space \r\ntab\t\r\n\r\n"
                + "x".repeat(200) + "\r\n" + "é".repeat(60) + "\r\n.\r\nend";
        Random rnd = new Random(5);
        for (int i = 0; i < 20; i++) {
            byte[] qp = encode(text.getBytes(StandardCharsets.UTF_8), rnd);
            assertSevenBitShortLines(qp);
            assertThat(new String(decode(qp), StandardCharsets.UTF_8)).isEqualTo(text);
        }
    }

    @Test
    void randomOctetsRoundTrip() throws Exception {
        Random rnd = new Random(11);
        for (int i = 0; i < 50; i++) {
            byte[] data = new byte[rnd.nextInt(3000)];
            rnd.nextBytes(data);
            // CRLF line ends as the message carries them: a lone CR or LF is encoded, still round-trips
            byte[] qp = encode(data, rnd);
            assertSevenBitShortLines(qp);
            assertThat(decode(qp)).isEqualTo(data);
        }
    }

    @Test
    void plainAsciiStaysReadable() throws Exception {
        byte[] qp = encode("Hello Bob,\r\nsee you at noon.\r\n".getBytes(StandardCharsets.US_ASCII), new Random(1));
        assertThat(new String(qp, StandardCharsets.US_ASCII)).isEqualTo("Hello Bob,\r\nsee you at noon.\r\n");
    }
}
