package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a FETCH response item by item as {@link ResponseLine} pieces and {@link LiteralChunk}s for
 * {@link ImapWireEncoder}: every literal (a streamed body, a nested ENVELOPE field) is announced with its exact
 * count (SECURITY.md 19). Values are written as given: atoms verbatim, quoted strings escaped.
 */
public final class FetchResponseWriter {

    private final long number;
    private final List<Object> out = new ArrayList<>();
    private StringBuilder line;
    private boolean firstPiece = true;
    private boolean firstItem = true;

    public FetchResponseWriter(long number) {
        this.number = number;
        this.line = new StringBuilder("* ").append(number).append(" FETCH (");
    }

    public FetchResponseWriter item(String name, ImapValue value) {
        separator();
        line.append(name).append(' ');
        write(value);
        return this;
    }

    /**
     * Announces an item whose value is a literal of {@code size} octets; the caller then writes exactly that many
     * octets as {@link LiteralChunk}s (the encoder fails the write otherwise) before the next item.
     */
    public FetchResponseWriter literalItem(String name, long size) {
        separator();
        line.append(name).append(' ');
        flush(LiteralSpec.sync(size));
        return this;
    }

    /** Ends the response; returns the pieces written since the last call. */
    public List<Object> end() {
        line.append(')');
        flush(null);
        return take();
    }

    /** The pieces written so far (for streaming: take them before writing a literal's chunks). */
    public List<Object> take() {
        List<Object> result = new ArrayList<>(out);
        out.clear();
        return result;
    }

    private void separator() {
        if (!firstItem) {
            line.append(' ');
        }
        firstItem = false;
    }

    private void write(ImapValue v) {
        if (v instanceof ImapValue.Atom a) {
            line.append(a.text());
        } else if (v instanceof ImapValue.Quoted q) {
            line.append(FetchItemsParser.quote(q.text()));
        } else if (v instanceof ImapValue.Literal l) {
            flush(LiteralSpec.sync(l.octets().length));
            out.add(new LiteralChunk(Unpooled.wrappedBuffer(l.octets()), true));
        } else if (v instanceof ImapValue.ListValue list) {
            line.append('(');
            boolean first = true;
            for (ImapValue item : list.items()) {
                if (!first && !(item instanceof ImapValue.ListValue l && l.joined())) {
                    line.append(' ');
                }
                first = false;
                write(item);
            }
            line.append(')');
        }
    }

    private void flush(LiteralSpec literal) {
        ByteBuf content = Unpooled.copiedBuffer(line, StandardCharsets.ISO_8859_1);
        out.add(new ResponseLine(ResponseLine.Kind.UNTAGGED, null, number, "FETCH", firstPiece, null, null, List.of(),
                content, literal));
        firstPiece = false;
        line = new StringBuilder();
    }
}
