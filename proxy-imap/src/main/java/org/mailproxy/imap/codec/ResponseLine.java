package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One line piece of a server response (RFC 9051 7). The first piece says what the response is: tagged,
 * untagged or a continuation request, its tag, its message number ({@code * 5 FETCH}) and name (OK, CAPABILITY,
 * FETCH...). Status responses carry their response code and text; data responses carry their tokens, so a FETCH
 * response is available item by item (see {@link FetchItemsParser}). Pieces after a literal have {@code first == false}.
 */
public final class ResponseLine extends DefaultByteBufHolder implements WireLine {

    public enum Kind { TAGGED, UNTAGGED, CONTINUATION }

    private final Kind kind;
    private final String tag;
    private final long number;
    private final String name;
    private final boolean first;
    private final String code;
    private final String text;
    private final List<ImapToken> tokens;
    private final LiteralSpec literal;

    public ResponseLine(Kind kind, String tag, long number, String name, boolean first, String code, String text,
                        List<ImapToken> tokens, ByteBuf content, LiteralSpec literal) {
        super(content);
        this.kind = kind;
        this.tag = tag;
        this.number = number;
        this.name = name;
        this.first = first;
        this.code = code;
        this.text = text;
        this.tokens = List.copyOf(tokens);
        this.literal = literal;
    }

    public Kind kind() {
        return kind;
    }

    /** The tag of a tagged response, else null. */
    public String tag() {
        return tag;
    }

    /** The message number of {@code * n EXISTS|EXPUNGE|FETCH|RECENT}, else -1. */
    public long number() {
        return number;
    }

    /** Upper-case response name: OK, NO, BAD, BYE, PREAUTH, CAPABILITY, FETCH, EXISTS...; "+" for a continuation. */
    public String name() {
        return name;
    }

    public boolean isFirst() {
        return first;
    }

    /** The response code between brackets of a status response ({@code CAPABILITY IMAP4rev1 IDLE}), else null. */
    public String code() {
        return code;
    }

    /** The human-readable text of a status response or continuation request, else null. */
    public String text() {
        return text;
    }

    /** The tokens of a data response piece after its name (or of a whole later piece). Empty for status responses. */
    public List<ImapToken> tokens() {
        return tokens;
    }

    public boolean isStatus() {
        return code != null || text != null;
    }

    @Override
    public LiteralSpec literal() {
        return literal;
    }

    public boolean isLast() {
        return literal == null;
    }

    /** The same status response under another tag (null: untagged), byte for byte otherwise. */
    public ResponseLine withTag(String newTag) {
        if (!first || kind == Kind.CONTINUATION) {
            throw new IllegalStateException("only the first piece of a tagged or untagged response has a tag");
        }
        ByteBuf c = content();
        int oldLen = kind == Kind.TAGGED ? tag.getBytes(StandardCharsets.US_ASCII).length : 1;
        ByteBuf out = Unpooled.wrappedBuffer(Unpooled.copiedBuffer(newTag == null ? "*" : newTag, StandardCharsets.US_ASCII),
                c.retainedSlice(c.readerIndex() + oldLen, c.readableBytes() - oldLen));
        return new ResponseLine(newTag == null ? Kind.UNTAGGED : Kind.TAGGED, newTag, number, name, true, code, text,
                tokens, out, literal);
    }

    /** A status response with another response code (null: none), text kept byte for byte (ISO-8859-1 round trip). */
    public ResponseLine withCode(String newCode) {
        if (!isStatus()) {
            throw new IllegalStateException("not a status response");
        }
        StringBuilder sb = new StringBuilder();
        sb.append(kind == Kind.TAGGED ? tag : "*").append(' ').append(name);
        if (newCode != null) {
            sb.append(" [").append(newCode).append(']');
        }
        if (text != null && !text.isEmpty()) {
            sb.append(' ').append(text);
        }
        ByteBuf out = Unpooled.copiedBuffer(sb, StandardCharsets.ISO_8859_1);
        return new ResponseLine(kind, tag, number, name, true, newCode, text, tokens, out, null);
    }

    @Override
    public ResponseLine replace(ByteBuf content) {
        return new ResponseLine(kind, tag, number, name, first, code, text, tokens, content, literal);
    }

    @Override
    public ResponseLine retain() {
        super.retain();
        return this;
    }

    @Override
    public String toString() {
        return "ResponseLine(" + kind + (tag == null ? "" : " " + tag) + (number >= 0 ? " " + number : "") + " " + name
                + (first ? "" : " cont") + (literal == null ? "" : " " + literal) + ")";
    }
}
