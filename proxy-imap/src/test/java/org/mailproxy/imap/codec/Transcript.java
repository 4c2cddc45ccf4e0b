package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/** Feeds bytes to a decoder whole and in random splits, and renders what comes out as comparable text. */
final class Transcript {

    private Transcript() {
    }

    static List<String> decode(Supplier<ChannelHandler> decoder, byte[] input) {
        return decode(decoder, input, List.of(input.length));
    }

    static List<String> decode(Supplier<ChannelHandler> decoder, byte[] input, List<Integer> splits) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder.get());
        int pos = 0;
        for (int n : splits) {
            ch.writeInbound(Unpooled.wrappedBuffer(input, pos, n));
            pos += n;
        }
        List<String> out = new ArrayList<>();
        StringBuilder literal = null;
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            try {
                if (msg instanceof LiteralChunk c) {
                    if (literal == null) {
                        literal = new StringBuilder();
                    }
                    literal.append(c.content().toString(StandardCharsets.ISO_8859_1));
                    if (c.isLast()) {
                        out.add("LIT " + literal);
                        literal = null;
                    }
                } else {
                    out.add(render(msg));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        if (literal != null) {
            out.add("PARTIAL " + literal);
        }
        ch.finishAndReleaseAll();
        return out;
    }

    static String render(Object msg) {
        if (msg instanceof CommandLine l) {
            return "CMD " + l.tag() + " " + l.verb() + (l.isFirst() ? "" : " +") + " |"
                    + l.content().toString(StandardCharsets.ISO_8859_1) + "|" + (l.literal() == null ? "" : " " + l.literal());
        }
        if (msg instanceof ContinuationLine l) {
            return "CONT |" + l.content().toString(StandardCharsets.ISO_8859_1) + "|";
        }
        if (msg instanceof CommandError e) {
            return "ERR " + e.tag() + " " + e.error().status() + (e.error().code() == null ? "" : " [" + e.error().code() + "]")
                    + (e.fatal() ? " fatal" : "");
        }
        if (msg instanceof ResponseLine l) {
            StringBuilder sb = new StringBuilder("RSP ").append(l.kind()).append(' ');
            if (l.tag() != null) {
                sb.append(l.tag()).append(' ');
            }
            if (l.number() >= 0) {
                sb.append(l.number()).append(' ');
            }
            sb.append(l.name()).append(l.isFirst() ? "" : " +");
            if (l.code() != null) {
                sb.append(" code=").append(l.code());
            }
            if (l.text() != null) {
                sb.append(" text=").append(l.text());
            }
            if (!l.tokens().isEmpty()) {
                sb.append(" tokens=").append(tokens(l.tokens()));
            }
            sb.append(" |").append(l.content().toString(StandardCharsets.ISO_8859_1)).append('|');
            if (l.literal() != null) {
                sb.append(' ').append(l.literal());
            }
            return sb.toString();
        }
        if (msg instanceof ResponseError e) {
            return "RERR " + e.reason();
        }
        return String.valueOf(msg);
    }

    static String tokens(List<ImapToken> tokens) {
        StringBuilder sb = new StringBuilder();
        for (ImapToken t : tokens) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            if (t instanceof ImapToken.Atom a) {
                sb.append(a.text());
            } else if (t instanceof ImapToken.Quoted q) {
                sb.append('"').append(q.text()).append('"');
            } else if (t instanceof ImapToken.Open) {
                sb.append('(');
            } else if (t instanceof ImapToken.Close) {
                sb.append(')');
            } else if (t instanceof ImapToken.Literal l) {
                sb.append(l.spec());
            }
        }
        return sb.toString();
    }

    /** Random split points covering the input, from a fixed seed so failures repeat. */
    static List<List<Integer>> randomSplits(int length, long seed, int count) {
        Random r = new Random(seed);
        List<List<Integer>> all = new ArrayList<>();
        List<Integer> bytewise = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            bytewise.add(1);
        }
        all.add(bytewise);
        for (int k = 0; k < count; k++) {
            List<Integer> s = new ArrayList<>();
            int left = length;
            while (left > 0) {
                int n = 1 + r.nextInt(Math.min(left, 1 + r.nextInt(16)));
                s.add(n);
                left -= n;
            }
            all.add(s);
        }
        return all;
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static ByteBuf encodeAll(List<Object> messages) {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapWireEncoder());
        for (Object m : messages) {
            ch.writeOutbound(m);
        }
        ByteBuf all = Unpooled.buffer();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            all.writeBytes(b);
            b.release();
        }
        ch.finishAndReleaseAll();
        return all;
    }
}
