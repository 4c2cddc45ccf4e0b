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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** FETCH responses item by item, and written back with exact literal counts (the base of the FETCH rewriter). */
class FetchItemsTest {

    private static final String FETCH = "* 12 FETCH (UID 7 FLAGS (\\Seen $Label1) RFC822.SIZE 44 "
            + "ENVELOPE (\"Mon, 1 Jan 2024 00:00:00 +0000\" {5}\r\nsubj! ((\"A \\\"q\\\"\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL NIL \"<id@x>\") "
            + "BODY[HEADER.FIELDS (FROM TO)]<0> {10}\r\n0123456789 "
            + "BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) \"mixed\"))\r\n";

    /** Decodes in the given splits and parses into events; literal chunks rendered as LIT(text). */
    private static List<String> events(String input, List<Integer> splits) throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(4096, 16));
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        int pos = 0;
        for (int n : splits) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, pos, n));
            pos += n;
        }
        FetchItemsParser parser = new FetchItemsParser(1024);
        List<String> out = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        Object m;
        while ((m = ch.readInbound()) != null) {
            try {
                for (Object e : parser.feed(m)) {
                    if (e instanceof LiteralChunk c) {
                        lit.append(c.content().toString(StandardCharsets.ISO_8859_1));
                        if (c.isLast()) {
                            out.add("LIT(" + lit + ")");
                            lit.setLength(0);
                        }
                        c.release();
                    } else {
                        out.add(render(e));
                    }
                }
            } finally {
                ReferenceCountUtil.release(m);
            }
        }
        assertThat(parser.isDone()).isTrue();
        ch.finishAndReleaseAll();
        return out;
    }

    private static String render(Object e) {
        if (e instanceof FetchEvent.Item i) {
            return i.name() + "=" + render(i.value());
        }
        if (e instanceof FetchEvent.LiteralItem l) {
            return l.name() + "=" + l.spec();
        }
        return e.toString();
    }

    private static String render(ImapValue v) {
        if (v instanceof ImapValue.Literal l) {
            return "literal:" + new String(l.octets(), StandardCharsets.ISO_8859_1);
        }
        if (v instanceof ImapValue.ListValue l) {
            StringBuilder sb = new StringBuilder(l.joined() ? "+[" : "[");
            for (ImapValue i : l.items()) {
                sb.append(render(i)).append(';');
            }
            return sb.append(']').toString();
        }
        return v.toString();
    }

    @Test
    void itemsInAnySplit() throws Exception {
        byte[] bytes = FETCH.getBytes(StandardCharsets.ISO_8859_1);
        List<String> whole = events(FETCH, List.of(bytes.length));
        assertThat(whole).containsExactly(
                "Begin[number=12]",
                "UID=Atom[text=7]",
                "FLAGS=[Atom[text=\\Seen];Atom[text=$Label1];]",
                "RFC822.SIZE=Atom[text=44]",
                "ENVELOPE=[Quoted[text=Mon, 1 Jan 2024 00:00:00 +0000];literal:subj!;[[Quoted[text=A \"q\"];Atom[text=NIL];"
                        + "Quoted[text=a];Quoted[text=b.c];];];Atom[text=NIL];Atom[text=NIL];Atom[text=NIL];Atom[text=NIL];"
                        + "Atom[text=NIL];Atom[text=NIL];Quoted[text=<id@x>];]",
                "BODY[HEADER.FIELDS (FROM TO)]<0>={10}",
                "LIT(0123456789)",
                "BODYSTRUCTURE=[[Quoted[text=text];Quoted[text=plain];Atom[text=NIL];Atom[text=NIL];Atom[text=NIL];"
                        + "Quoted[text=7bit];Atom[text=3];Atom[text=1];];+[Quoted[text=text];Quoted[text=html];Atom[text=NIL];"
                        + "Atom[text=NIL];Atom[text=NIL];Quoted[text=7bit];Atom[text=3];Atom[text=1];];Quoted[text=mixed];]",
                "End[]");
        for (List<Integer> split : Transcript.randomSplits(bytes.length, 7, 20)) {
            assertThat(events(FETCH, split)).isEqualTo(whole);
        }
    }

    @Test
    void parseThenWriteIsByteExact() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(4096, 16));
        ch.writeInbound(Unpooled.copiedBuffer(FETCH, StandardCharsets.ISO_8859_1));
        FetchItemsParser parser = new FetchItemsParser(1024);
        FetchResponseWriter writer = null;
        List<Object> written = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            for (Object e : parser.feed(m)) {
                if (e instanceof FetchEvent.Begin b) {
                    writer = new FetchResponseWriter(b.number());
                } else if (e instanceof FetchEvent.Item i) {
                    writer.item(i.name(), i.value());
                } else if (e instanceof FetchEvent.LiteralItem l) {
                    writer.literalItem(l.name(), l.spec().size());
                    written.addAll(writer.take());
                } else if (e instanceof LiteralChunk c) {
                    written.add(c);
                } else if (e instanceof FetchEvent.End) {
                    written.addAll(writer.end());
                }
            }
            ReferenceCountUtil.release(m);
        }
        ByteBuf out = Transcript.encodeAll(written);
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(FETCH);
        out.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void rewrittenBodyIsAnnouncedWithItsExactCount() {
        byte[] replacement = "Subject: decrypted\r\n\r\nplain text that is longer than before\r\n".getBytes(StandardCharsets.US_ASCII);
        FetchResponseWriter w = new FetchResponseWriter(3);
        w.item("UID", new ImapValue.Atom("9"));
        w.item("RFC822.SIZE", new ImapValue.Atom(Integer.toString(replacement.length)));
        w.literalItem("BODY[]", replacement.length);
        List<Object> written = new ArrayList<>(w.take());
        written.add(new LiteralChunk(Unpooled.wrappedBuffer(replacement, 0, 10), false));
        written.add(new LiteralChunk(Unpooled.wrappedBuffer(replacement, 10, replacement.length - 10), true));
        written.addAll(w.end());
        ByteBuf out = Transcript.encodeAll(written);
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo("* 3 FETCH (UID 9 RFC822.SIZE " + replacement.length
                + " BODY[] {" + replacement.length + "}\r\n" + new String(replacement, StandardCharsets.US_ASCII) + ")\r\n");
        out.release();
    }

    @Test
    void malformedFetchIsRefused() {
        FetchItemsParser p = new FetchItemsParser(16);
        EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(4096, 16));
        ch.writeInbound(Unpooled.copiedBuffer("* 1 FETCH UID 5\r\n", StandardCharsets.US_ASCII));
        Object m = ch.readInbound();
        assertThatThrownBy(() -> p.feed(m)).isInstanceOf(FetchItemsParser.MalformedFetch.class);
        ReferenceCountUtil.release(m);
        ch.finishAndReleaseAll();
    }
}
