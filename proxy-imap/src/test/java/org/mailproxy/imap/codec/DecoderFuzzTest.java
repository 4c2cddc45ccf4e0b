package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile input of every shape: IMAP-like fragments mixed with random octets, fed in random splits. Decoders must
 * never throw, must emit only their message types, and every literal they emit is counted within its announcement.
 */
class DecoderFuzzTest {

    private static final String[] FRAGMENTS = {
            "a1 ", "* ", "+ ", "OK ", "NO ", "FETCH ", "APPEND ", "LOGIN ", "(", ")", "((((", "))", "\"", "\\", "{",
            "}", "{5}", "{3+}", "{0}", "~{4}", "{99999999999999999999}", "{4097+}", "[", "]", "BODY[", "\r\n", "\r",
            "\n", "\0", " ", "x", "123 ", "DONE", "mp1 OK ", "* 3 FETCH (", "BODY[] {2}\r\nab", "\u00e9"};

    private static byte[] randomInput(Random r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int parts = 1 + r.nextInt(40);
        for (int i = 0; i < parts; i++) {
            if (r.nextInt(5) == 0) {
                byte[] b = new byte[1 + r.nextInt(8)];
                r.nextBytes(b);
                out.writeBytes(b);
            } else {
                out.writeBytes(FRAGMENTS[r.nextInt(FRAGMENTS.length)].getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    private static void run(Supplier<ChannelHandler> decoder, long seed) {
        Random r = new Random(seed);
        for (int round = 0; round < 2000; round++) {
            byte[] input = randomInput(r);
            EmbeddedChannel ch = new EmbeddedChannel(decoder.get());
            int pos = 0;
            while (pos < input.length) {
                int n = 1 + r.nextInt(input.length - pos);
                ch.writeInbound(Unpooled.wrappedBuffer(input, pos, n));
                pos += n;
            }
            long announced = 0;
            Object m;
            while ((m = ch.readInbound()) != null) {
                try {
                    if (m instanceof WireLine line && line.literal() != null) {
                        announced = line.literal().size();
                    } else if (m instanceof LiteralChunk c) {
                        assertThat((long) c.content().readableBytes()).isLessThanOrEqualTo(announced);
                        announced -= c.content().readableBytes();
                        assertThat(c.isLast()).isEqualTo(announced == 0);
                    } else {
                        assertThat(m).isInstanceOfAny(CommandLine.class, ContinuationLine.class, CommandError.class,
                                ResponseLine.class, ResponseError.class);
                    }
                } finally {
                    ReferenceCountUtil.release(m);
                }
            }
            assertThat(ch.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void commandDecoderSurvivesAnything() {
        run(() -> new ImapCommandDecoder(1024, 100_000, 4096), 1);
    }

    @Test
    void responseDecoderSurvivesAnything() {
        run(() -> new ImapResponseDecoder(1024, 8), 2);
    }

    @Test
    void fetchParserNeverThrowsAnythingButMalformedFetch() {
        Random r = new Random(3);
        for (int round = 0; round < 2000; round++) {
            byte[] body = randomInput(r);
            ByteBuf in = Unpooled.buffer();
            in.writeCharSequence("* 1 FETCH (", StandardCharsets.US_ASCII);
            in.writeBytes(body);
            in.writeCharSequence(")\r\n", StandardCharsets.US_ASCII);
            EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(1024, 8));
            ch.writeInbound(in);
            FetchItemsParser p = new FetchItemsParser(64);
            boolean failed = false;
            Object m;
            while ((m = ch.readInbound()) != null) {
                try {
                    if (!failed && (m instanceof ResponseLine || m instanceof LiteralChunk)) {
                        for (Object e : p.feed(m)) {
                            ReferenceCountUtil.release(e);
                        }
                    }
                } catch (FetchItemsParser.MalformedFetch e) {
                    failed = true;
                } finally {
                    ReferenceCountUtil.release(m);
                }
            }
            ch.finishAndReleaseAll();
        }
    }
}
