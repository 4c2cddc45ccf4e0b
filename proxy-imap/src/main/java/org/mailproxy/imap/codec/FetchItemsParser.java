package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBufUtil;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Reads one untagged FETCH response, fed as the {@link ResponseLine} pieces and {@link LiteralChunk}s that
 * {@link ImapResponseDecoder} produced, and turns it into {@link FetchEvent}s. A literal that is an item's whole
 * value is streamed (its chunks are returned as they come); a literal nested in a list (an ENVELOPE field) is
 * collected, up to {@code maxNestedLiteral} octets.
 *
 * <p>Item names keep their section and partial: {@code BODY[HEADER.FIELDS (FROM TO)]<0>}.
 */
public final class FetchItemsParser {

    /** The response broke the {@code msg-att} grammar. */
    public static final class MalformedFetch extends Exception {
        MalformedFetch(String message) {
            super(message, null, false, false);
        }
    }

    private enum Expect { OPEN, NAME, VALUE, DONE }

    private final int maxNestedLiteral;
    private Expect expect = Expect.OPEN;
    private StringBuilder name;
    private int nameBrackets;
    private String itemName;
    private final Deque<List<ImapValue>> lists = new ArrayDeque<>();
    private final Deque<Boolean> joined = new ArrayDeque<>();
    private boolean streaming;
    private ByteArrayOutputStream nested;

    public FetchItemsParser(int maxNestedLiteral) {
        this.maxNestedLiteral = maxNestedLiteral;
    }

    public boolean isDone() {
        return expect == Expect.DONE;
    }

    /**
     * Feeds the next part of the response. Returns the events it completes; {@link LiteralChunk}s of a streamed
     * value are returned as they are (the caller owns them). Other parts are not retained.
     */
    public List<Object> feed(Object part) throws MalformedFetch {
        List<Object> out = new ArrayList<>();
        if (part instanceof LiteralChunk chunk) {
            if (streaming) {
                out.add(chunk.retain());
                if (chunk.isLast()) {
                    streaming = false;
                    expect = Expect.NAME;
                }
            } else if (nested != null) {
                if (nested.size() + chunk.content().readableBytes() > maxNestedLiteral) {
                    throw new MalformedFetch("literal inside a FETCH list larger than " + maxNestedLiteral + " octets");
                }
                nested.writeBytes(ByteBufUtil.getBytes(chunk.content()));
                if (chunk.isLast()) {
                    value(new ImapValue.Literal(nested.toByteArray()), out);
                    nested = null;
                }
            } else {
                throw new MalformedFetch("literal octets without a literal");
            }
            return out;
        }
        ResponseLine line = (ResponseLine) part;
        if (line.isFirst()) {
            if (!"FETCH".equals(line.name()) || line.number() < 0) {
                throw new MalformedFetch("not a FETCH response");
            }
            out.add(new FetchEvent.Begin(line.number()));
        }
        for (ImapToken t : line.tokens()) {
            token(t, out);
        }
        if (line.isLast() && expect != Expect.DONE) {
            throw new MalformedFetch("FETCH response ended inside its item list");
        }
        return out;
    }

    private void token(ImapToken t, List<Object> out) throws MalformedFetch {
        switch (expect) {
            case OPEN -> {
                if (!(t instanceof ImapToken.Open)) {
                    throw new MalformedFetch("FETCH items must be a list");
                }
                expect = Expect.NAME;
            }
            case NAME -> name(t, out);
            case VALUE -> valueToken(t, out);
            case DONE -> throw new MalformedFetch("data after the FETCH item list");
        }
    }

    private void name(ImapToken t, List<Object> out) throws MalformedFetch {
        if (name == null) {
            if (t instanceof ImapToken.Close) {
                expect = Expect.DONE;
                out.add(new FetchEvent.End());
                return;
            }
            if (!(t instanceof ImapToken.Atom a)) {
                throw new MalformedFetch("FETCH item name expected");
            }
            name = new StringBuilder(a.text());
            nameBrackets = brackets(a.text());
        } else {
            // Inside a section spec: BODY[HEADER.FIELDS (FROM TO)]
            String piece;
            if (t instanceof ImapToken.Atom a) {
                piece = a.text();
            } else if (t instanceof ImapToken.Quoted q) {
                piece = quote(q.text());
            } else if (t instanceof ImapToken.Open) {
                piece = "(";
            } else if (t instanceof ImapToken.Close) {
                piece = ")";
            } else {
                throw new MalformedFetch("literal inside a section spec");
            }
            char last = name.charAt(name.length() - 1);
            if (!(last == '(' || piece.equals(")") || piece.startsWith("]"))) {
                name.append(' ');
            }
            name.append(piece);
            if (t instanceof ImapToken.Atom a) {
                nameBrackets += brackets(a.text());
            }
        }
        if (nameBrackets <= 0) {
            itemName = name.toString();
            name = null;
            expect = Expect.VALUE;
        }
    }

    private void valueToken(ImapToken t, List<Object> out) throws MalformedFetch {
        if (t instanceof ImapToken.Open open) {
            lists.push(new ArrayList<>());
            joined.push(open.joined());
        } else if (t instanceof ImapToken.Close) {
            if (lists.isEmpty()) {
                throw new MalformedFetch("unbalanced list in a FETCH item");
            }
            value(new ImapValue.ListValue(lists.pop(), joined.pop()), out);
        } else if (t instanceof ImapToken.Atom a) {
            value(new ImapValue.Atom(a.text()), out);
        } else if (t instanceof ImapToken.Quoted q) {
            value(new ImapValue.Quoted(q.text()), out);
        } else if (t instanceof ImapToken.Literal l) {
            if (lists.isEmpty()) {
                // The item's whole value: streamed, never collected (a multi-megabyte BODY[]).
                streaming = true;
                out.add(new FetchEvent.LiteralItem(itemName, l.spec()));
                itemName = null;
            } else {
                if (l.spec().size() > maxNestedLiteral) {
                    throw new MalformedFetch("literal inside a FETCH list larger than " + maxNestedLiteral + " octets");
                }
                nested = new ByteArrayOutputStream((int) l.spec().size());
            }
        }
    }

    private void value(ImapValue v, List<Object> out) {
        if (!lists.isEmpty()) {
            lists.peek().add(v);
            return;
        }
        out.add(new FetchEvent.Item(itemName, v));
        itemName = null;
        expect = Expect.NAME;
    }

    private static int brackets(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '[') {
                n++;
            } else if (c == ']') {
                n--;
            }
        }
        return n;
    }

    static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }
}
