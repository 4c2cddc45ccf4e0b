package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.imap.codec.Transcript.ascii;

class ImapCommandDecoderTest {

    private static ImapCommandDecoder decoder() {
        return new ImapCommandDecoder(1024, 100_000, 4096);
    }

    /** Decodes whole and in random splits; every way must give the same result. */
    private static List<String> decodeAllWays(String input) {
        byte[] bytes = ascii(input);
        List<String> whole = Transcript.decode(ImapCommandDecoderTest::decoder, bytes);
        for (List<Integer> split : Transcript.randomSplits(bytes.length, input.hashCode(), 20)) {
            assertThat(Transcript.decode(ImapCommandDecoderTest::decoder, bytes, split)).as("split %s", split).isEqualTo(whole);
        }
        return whole;
    }

    @Test
    void simpleCommands() {
        assertThat(decodeAllWays("a1 NOOP\r\nA2 select \"INBOX\"\r\n")).containsExactly(
                "CMD a1 NOOP |a1 NOOP|",
                "CMD A2 SELECT |A2 select \"INBOX\"|");
    }

    @Test
    void appendWithSynchronizingAndNonSynchronizingLiterals() {
        assertThat(decodeAllWays("A3 APPEND INBOX (\\Seen) {12}\r\nHello\r\nWorld {3+}\r\nabc\r\n")).containsExactly(
                "CMD A3 APPEND |A3 APPEND INBOX (\\Seen) | {12}",
                "LIT Hello\r\nWorld",
                "CMD A3 APPEND + | | {3+}",
                "LIT abc",
                "CMD A3 APPEND + ||");
    }

    @Test
    void literalContentIsNeverParsed() {
        // A literal holding something that looks like a command, a literal marker and a NUL-free CRLF.
        assertThat(decodeAllWays("A LOGIN {13}\r\nB LOGOUT {5}\r {4}\r\npass\r\n")).containsExactly(
                "CMD A LOGIN |A LOGIN | {13}",
                "LIT B LOGOUT {5}\r",
                "CMD A LOGIN + | | {4}",
                "LIT pass",
                "CMD A LOGIN + ||");
    }

    @Test
    void braceInsideQuotedStringIsNotALiteral() {
        assertThat(decodeAllWays("A SEARCH TEXT \"x {5}\"\r\n")).containsExactly("CMD A SEARCH |A SEARCH TEXT \"x {5}\"|");
    }

    @Test
    void zeroLengthLiteral() {
        assertThat(decodeAllWays("A LOGIN {0}\r\n {1}\r\nx\r\n")).containsExactly(
                "CMD A LOGIN |A LOGIN | {0}", "LIT ", "CMD A LOGIN + | | {1}", "LIT x", "CMD A LOGIN + ||");
    }

    @Test
    void tooLargeSynchronizingLiteralIsRefusedBeforeContinuationAndSessionContinues() {
        assertThat(decodeAllWays("A APPEND INBOX {100001}\r\nB NOOP\r\n")).containsExactly(
                "ERR A NO [TOOBIG]", "CMD B NOOP |B NOOP|");
    }

    @Test
    void literalSizeOverflowIsTooBig() {
        assertThat(decodeAllWays("A APPEND INBOX {99999999999999999999}\r\nB NOOP\r\n")).containsExactly(
                "ERR A NO [TOOBIG]", "CMD B NOOP |B NOOP|");
        assertThat(decodeAllWays("A APPEND INBOX {99999999999999999999+}\r\nB NOOP\r\n")).containsExactly(
                "ERR A BAD [TOOBIG] fatal");
    }

    @Test
    void nonSynchronizingLiteralAboveLiteralMinusCapIsFatal() {
        assertThat(decodeAllWays("A APPEND INBOX {4097+}\r\nxxxx")).containsExactly("ERR A BAD [TOOBIG] fatal");
    }

    @Test
    void overlongLineIsFatalAndEverythingAfterIsDiscarded() {
        String line = "A NOOP " + "x".repeat(2000) + "\r\nB NOOP\r\n";
        assertThat(decodeAllWays(line)).containsExactly("ERR null BAD fatal");
    }

    @Test
    void lineLimitCountsAllPiecesOfOneCommand() {
        StringBuilder sb = new StringBuilder("A X");
        for (int i = 0; i < 300; i++) {
            sb.append(" {1+}\r\nx");
        }
        sb.append("\r\n");
        assertThat(decodeAllWays(sb.toString())).last().isEqualTo("ERR null BAD fatal");
    }

    @Test
    void nulAndBareCrAreFatal() {
        assertThat(decodeAllWays("A LOGIN a\0b c\r\nB NOOP\r\n")).containsExactly("ERR null BAD fatal");
        assertThat(decodeAllWays("A NOOP\rB NOOP\r\n")).containsExactly("ERR null BAD fatal");
        assertThat(decodeAllWays("A NOOP\nB NOOP\r\n")).containsExactly("ERR null BAD fatal");
    }

    @Test
    void garbageGetsBadAndDecodingContinues() {
        assertThat(decodeAllWays("*\r\n+ x\r\nA\r\nA {5}\r\nB NOOP\r\n")).containsExactly(
                "ERR null BAD", "ERR null BAD", "ERR A BAD", "ERR A BAD", "CMD B NOOP |B NOOP|");
    }

    @Test
    void armedContinuationLineForAuthenticateAndIdle() {
        EmbeddedChannel ch = new EmbeddedChannel(decoder());
        ch.writeInbound(Unpooled.copiedBuffer("A IDLE\r\n", StandardCharsets.US_ASCII));
        assertThat(renderAll(ch)).containsExactly("CMD A IDLE |A IDLE|");
        ch.pipeline().get(ImapCommandDecoder.class).armContinuationLine();
        ch.writeInbound(Unpooled.copiedBuffer("DONE\r\nB NOOP\r\n", StandardCharsets.US_ASCII));
        assertThat(renderAll(ch)).containsExactly("CONT |DONE|", "CMD B NOOP |B NOOP|");
        ch.finishAndReleaseAll();
    }

    @Test
    void abortPendingLiteralForgetsTheCommand() {
        EmbeddedChannel ch = new EmbeddedChannel(decoder());
        ch.writeInbound(Unpooled.copiedBuffer("A APPEND Nope {5}\r\n", StandardCharsets.US_ASCII));
        assertThat(renderAll(ch)).containsExactly("CMD A APPEND |A APPEND Nope | {5}");
        assertThat(ch.pipeline().get(ImapCommandDecoder.class).abortPendingLiteral()).isTrue();
        ch.writeInbound(Unpooled.copiedBuffer("B NOOP\r\n", StandardCharsets.US_ASCII));
        assertThat(renderAll(ch)).containsExactly("CMD B NOOP |B NOOP|");
        ch.finishAndReleaseAll();
    }

    @Test
    void hugeLiteralIsStreamedInChunksNotBuffered() {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapCommandDecoder(1024, 10_000_000, 4096));
        ch.writeInbound(Unpooled.copiedBuffer("A APPEND INBOX {5000000}\r\n", StandardCharsets.US_ASCII));
        Object first = ch.readInbound();
        assertThat(Transcript.render(first)).isEqualTo("CMD A APPEND |A APPEND INBOX | {5000000}");
        ReferenceCountUtil.release(first);
        long received = 0;
        int chunks = 0;
        byte[] block = new byte[65536];
        for (int sent = 0; sent < 5_000_000; sent += block.length) {
            int n = Math.min(block.length, 5_000_000 - sent);
            ch.writeInbound(Unpooled.wrappedBuffer(block, 0, n));
            LiteralChunk c;
            while ((c = ch.readInbound()) != null) {
                received += c.content().readableBytes();
                chunks++;
                assertThat(c.content().readableBytes()).isLessThanOrEqualTo(block.length);
                c.release();
            }
        }
        assertThat(received).isEqualTo(5_000_000);
        assertThat(chunks).isGreaterThan(50);
        ch.finishAndReleaseAll();
    }

    @Test
    void encoderWritesDecodedCommandsBackByteExact() {
        String input = "A3 APPEND INBOX (\\Seen) {12}\r\nHello\r\nWorld {3+}\r\nabc\r\nB NOOP\r\n";
        EmbeddedChannel ch = new EmbeddedChannel(decoder());
        ch.writeInbound(Unpooled.copiedBuffer(input, StandardCharsets.ISO_8859_1));
        List<Object> msgs = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            msgs.add(m);
        }
        ByteBuf out = Transcript.encodeAll(msgs);
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(input);
        out.release();
        ch.finishAndReleaseAll();
    }

    private static List<String> renderAll(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            out.add(Transcript.render(m));
            ReferenceCountUtil.release(m);
        }
        return out;
    }
}
