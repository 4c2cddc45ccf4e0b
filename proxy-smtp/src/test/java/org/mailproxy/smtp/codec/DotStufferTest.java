package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.smtp.codec.Bytes.ascii;

class DotStufferTest {

    private static String stuffInPieces(String content, int[] cuts) {
        DotStuffer s = new DotStuffer(998);
        StringBuilder out = new StringBuilder();
        byte[] b = ascii(content);
        int from = 0;
        for (int i = 0; i <= cuts.length; i++) {
            int to = i < cuts.length ? cuts[i] : b.length;
            ByteBuf in = Unpooled.copiedBuffer(b, from, to - from);
            ByteBuf o = s.stuff(ByteBufAllocator.DEFAULT, in);
            out.append(o.toString(StandardCharsets.ISO_8859_1));
            in.release();
            o.release();
            from = to;
        }
        ByteBuf end = s.end(ByteBufAllocator.DEFAULT);
        out.append(end.toString(StandardCharsets.ISO_8859_1));
        end.release();
        return out.toString();
    }

    @Test
    void doublesLeadingDotsOnlyAndTerminates() {
        assertThat(stuffInPieces(".\r\n..\r\na.b\r\n.x\r\n", new int[0]))
                .isEqualTo("..\r\n...\r\na.b\r\n..x\r\n.\r\n");
        assertThat(stuffInPieces("", new int[0])).isEqualTo(".\r\n");
        assertThat(stuffInPieces("no final crlf", new int[0])).isEqualTo("no final crlf\r\n.\r\n");
    }

    @Test
    void everySplitPointGivesTheSameOutput() {
        String content = ".\r\n.\r\n..a\r\n\r\n.\r\nb.\r\n." + "\r\n";
        String whole = stuffInPieces(content, new int[0]);
        for (int cut = 1; cut < content.length(); cut++) {
            assertThat(stuffInPieces(content, new int[]{cut})).as("cut %d", cut).isEqualTo(whole);
        }
        Random r = new Random(7);
        for (int i = 0; i < 200; i++) {
            int a = 1 + r.nextInt(content.length() - 2);
            int b = a + 1 + r.nextInt(content.length() - a - 1);
            assertThat(stuffInPieces(content, new int[]{a, b})).isEqualTo(whole);
        }
    }

    @Test
    void refusesWhatATransformMustNeverProduce() {
        assertThatThrownBy(() -> stuffInPieces("a\nb\r\n", new int[0])).hasMessageContaining("bare LF");
        assertThatThrownBy(() -> stuffInPieces("a\rb\r\n", new int[0])).hasMessageContaining("bare CR");
        assertThatThrownBy(() -> stuffInPieces("a\0\r\n", new int[0])).hasMessageContaining("NUL");
        assertThatThrownBy(() -> stuffInPieces("x".repeat(999) + "\r\n", new int[0])).hasMessageContaining("998");
        // A line of 998 with a leading dot becomes 999 as sent.
        assertThatThrownBy(() -> stuffInPieces("." + "x".repeat(997) + "\r\n", new int[0])).hasMessageContaining("998");
        assertThat(stuffInPieces("x".repeat(998) + "\r\n", new int[0])).hasSize(998 + 2 + 3);
        assertThatThrownBy(() -> stuffInPieces("ends in CR\r", new int[0])).hasMessageContaining("bare CR");
    }

    /** Wire data a client sends (already stuffed) comes out of decode-then-stuff unchanged. */
    @Test
    void decodeThenStuffReproducesCanonicalWire() {
        Random r = new Random(11);
        String[] lines = {".", "..", "...", "a", ".a", "", "x.y", " ."};
        for (int i = 0; i < 2000; i++) {
            StringBuilder content = new StringBuilder();
            int n = r.nextInt(6);
            for (int j = 0; j < n; j++) {
                content.append(lines[r.nextInt(lines.length)]).append("\r\n");
            }
            String wire = SmtpDataDecoderTest.stuffed(content.toString());
            java.util.List<Object> out = new java.util.ArrayList<>();
            ByteBuf in = Unpooled.copiedBuffer(ascii(wire));
            assertThat(new SmtpDataDecoder(998, 1 << 20).decode(in, out)).isTrue();
            in.release();
            String decoded = Bytes.text(Bytes.drain(out, new java.util.ArrayList<>()));
            assertThat(decoded).isEqualTo(content.toString());
            assertThat(SmtpDataDecoderTest.stuffed(decoded)).isEqualTo(wire);
        }
    }
}
