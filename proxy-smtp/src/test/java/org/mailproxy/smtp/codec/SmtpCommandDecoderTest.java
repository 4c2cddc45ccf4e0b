package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.smtp.codec.Bytes.ascii;

class SmtpCommandDecoderTest {

    private static List<String> feed(SmtpCommandDecoder decoder, EmbeddedChannel ch, byte[] wire, List<int[]> pieces) {
        for (int[] p : pieces) {
            ch.writeInbound(Unpooled.copiedBuffer(wire, p[0], p[1] - p[0]));
        }
        return collect(ch);
    }

    private static List<String> collect(EmbeddedChannel ch) {
        List<String> seen = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            if (o instanceof SmtpRequest r) {
                seen.add(r.line());
            } else if (o instanceof ByteBuf b) {
                seen.add("content:" + b.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
                b.release();
            } else {
                seen.add(String.valueOf(o));
            }
        }
        return seen;
    }

    /** Merges consecutive content chunks so split feeds compare equal. */
    private static List<String> merged(List<String> seen) {
        List<String> out = new ArrayList<>();
        for (String s : seen) {
            if (s.startsWith("content:") && !out.isEmpty() && out.get(out.size() - 1).startsWith("content:")) {
                out.set(out.size() - 1, out.get(out.size() - 1) + s.substring(8));
            } else {
                out.add(s);
            }
        }
        return out;
    }

    @Test
    void pipelinedCommandsInEverySplit() {
        String wire = "EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=10\r\nRCPT TO:<b@example.com>\r\nRSET\r\nNOOP\r\n";
        List<String> expected = List.of("EHLO client.example", "MAIL FROM:<a@example.org> SIZE=10",
                "RCPT TO:<b@example.com>", "RSET", "NOOP");
        byte[] b = ascii(wire);
        for (int cut = 0; cut < b.length; cut++) {
            SmtpCommandDecoder d = new SmtpCommandDecoder(512);
            EmbeddedChannel ch = new EmbeddedChannel(d);
            List<int[]> pieces = cut == 0 ? List.<int[]>of(new int[]{0, b.length}) : List.of(new int[]{0, cut}, new int[]{cut, b.length});
            assertThat(feed(d, ch, b, pieces)).isEqualTo(expected);
        }
        Random r = new Random(3);
        for (int i = 0; i < 50; i++) {
            SmtpCommandDecoder d = new SmtpCommandDecoder(512);
            assertThat(feed(d, new EmbeddedChannel(d), b, Bytes.randomSplits(b.length, r, 7))).isEqualTo(expected);
        }
    }

    @Test
    void verbsAreCaseInsensitiveAndUnknownVerbsStillParse() {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("mail FROM:<x>\r\nXFOO bar baz\r\n")));
        SmtpRequest mail = ch.readInbound();
        SmtpRequest xfoo = ch.readInbound();
        assertThat(mail.command()).isSameAs(SmtpCommand.MAIL);
        assertThat(mail.parameters()).isEqualTo("FROM:<x>");
        assertThat(xfoo.command().name()).isEqualTo("XFOO");
        assertThat(xfoo.command().isKnown()).isFalse();
        assertThat(xfoo.parameters()).isEqualTo("bar baz");
        assertThat(xfoo.toString()).doesNotContain("bar");
    }

    @Test
    void pausesAfterDataUntilTheSessionDecides() {
        byte[] wire = ascii("MAIL FROM:<a>\r\nDATA\r\nSubject: x\r\n\r\n.body\r\n.\r\nQUIT\r\n");
        for (int cut = 1; cut < wire.length; cut++) {
            SmtpCommandDecoder d = new SmtpCommandDecoder(512);
            EmbeddedChannel ch = new EmbeddedChannel(d);
            List<String> seen = new ArrayList<>(feed(d, ch, wire, List.of(new int[]{0, cut}, new int[]{cut, wire.length})));
            assertThat(seen).as("cut %d", cut).containsExactly("MAIL FROM:<a>", "DATA");
            assertThat(d.isPaused()).isTrue();
            d.startData(998, 1000);
            seen.addAll(collect(ch));
            assertThat(merged(seen)).as("cut %d", cut)
                    .containsExactly("MAIL FROM:<a>", "DATA", "content:Subject: x\r\n\r\nbody\r\n", "DataEnd[refusal=Optional.empty]", "QUIT");
        }
    }

    @Test
    void refusedDataResumesCommands() {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("DATA\r\nRSET\r\n")));
        assertThat(collect(ch)).containsExactly("DATA");
        d.resume();
        assertThat(collect(ch)).containsExactly("RSET");
    }

    @Test
    void startTlsPausesAndReportsPipelinedBytes() {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("STARTTLS\r\n")));
        assertThat(collect(ch)).containsExactly("STARTTLS");
        assertThat(d.isPaused()).isTrue();
        assertThat(d.hasBufferedInput()).isFalse();

        SmtpCommandDecoder d2 = new SmtpCommandDecoder(512);
        EmbeddedChannel ch2 = new EmbeddedChannel(d2);
        ch2.writeInbound(Unpooled.copiedBuffer(ascii("STARTTLS\r\nMAIL FROM:<injected>\r\n")));
        assertThat(collect(ch2)).containsExactly("STARTTLS");
        assertThat(d2.hasBufferedInput()).isTrue();
    }

    @Test
    void overlongLineIsDiscardedAndTheNextCommandWorks() {
        for (int chunk : new int[]{7, 100, 5000}) {
            SmtpCommandDecoder d = new SmtpCommandDecoder(512);
            EmbeddedChannel ch = new EmbeddedChannel(d);
            byte[] wire = ascii("NOOP " + "x".repeat(3000) + "\r\nNOOP\r\n" + "y".repeat(513) + "\r\n" + "z".repeat(512) + "\r\n");
            assertThat(feed(d, ch, wire, Bytes.randomSplits(wire.length, new Random(chunk), chunk)))
                    .containsExactly("LINE_TOO_LONG", "NOOP", "LINE_TOO_LONG", "z".repeat(512));
        }
    }

    @Test
    void bareLfCrInsideAndNulAreNotCommands() {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("NOOP\nNO\rOP\r\nNO\0OP\r\nNOOP\r\n")));
        assertThat(collect(ch)).containsExactly("BAD_LINE_ENDING", "BAD_LINE_ENDING", "BAD_LINE_ENDING", "NOOP");
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET / HTTP/1.1\r\n", "POST /x HTTP/1.1\r\n", "CONNECT smtp:25 HTTP/1.1\r\n", "HEAD / HTTP/1.0\r\n",
            "OPTIONS * HTTP/1.1\r\n", "PUT /a HTTP/1.1\r\n", "Host: localhost:1025\r\n", "get / http/1.1\r\n"})
    void httpLinesCloseTheDecoder(String first) {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii(first + "Host: x\r\n\r\nEHLO x\r\nMAIL FROM:<a>\r\n")));
        assertThat(collect(ch)).containsExactly("HTTP_REQUEST");
        ch.writeInbound(Unpooled.copiedBuffer(ascii("EHLO again\r\n")));
        assertThat(collect(ch)).isEmpty();
        assertThat(d.hasBufferedInput()).isFalse();
    }

    @Test
    void dataSmugglingThroughTheDecoderYieldsOneRefusedEnd() {
        byte[] wire = ascii("DATA\r\nhello\n.\nMAIL FROM:<evil>\r\nRCPT TO:<v>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n");
        Random r = new Random(5);
        for (int i = 0; i < 100; i++) {
            SmtpCommandDecoder d = new SmtpCommandDecoder(512);
            EmbeddedChannel ch = new EmbeddedChannel(d);
            List<String> seen = new ArrayList<>(feed(d, ch, wire, Bytes.randomSplits(wire.length, r, 9)));
            assertThat(seen).containsExactly("DATA");
            d.startData(998, 1000);
            seen.addAll(collect(ch));
            List<String> merged = merged(seen);
            assertThat(merged.stream().filter(s -> s.startsWith("DataEnd"))).hasSize(1);
            assertThat(merged.stream().filter(s -> s.startsWith("DataEnd")).findFirst().get()).contains("554");
            assertThat(merged.get(merged.size() - 1)).isEqualTo("QUIT");
            assertThat(merged).doesNotContain("MAIL FROM:<evil>");
        }
    }

    @Test
    void clientGoneMidDataEmitsNoEnd() {
        SmtpCommandDecoder d = new SmtpCommandDecoder(512);
        EmbeddedChannel ch = new EmbeddedChannel(d);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("DATA\r\n")));
        collect(ch);
        d.startData(998, 1000);
        ch.writeInbound(Unpooled.copiedBuffer(ascii("Subject: half\r\n\r\npart")));
        ch.close();
        assertThat(collect(ch)).noneMatch(s -> s.startsWith("DataEnd"));
    }
}
