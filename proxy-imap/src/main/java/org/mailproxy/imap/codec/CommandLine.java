package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;
import org.mailproxy.imap.protocol.ImapVerb;

import java.nio.charset.StandardCharsets;

/**
 * One line piece of a client command. The first piece starts with the tag and verb; a command with literals has
 * further pieces after each literal (RFC 9051 4.3). {@link #tag()} and {@link #verb()} repeat on every piece.
 */
public final class CommandLine extends DefaultByteBufHolder implements WireLine {
    private final String tag;
    private final ImapVerb verb;
    private final boolean first;
    private final LiteralSpec literal;

    public CommandLine(String tag, ImapVerb verb, ByteBuf content, boolean first, LiteralSpec literal) {
        super(content);
        this.tag = tag;
        this.verb = verb;
        this.first = first;
        this.literal = literal;
    }

    public String tag() {
        return tag;
    }

    public ImapVerb verb() {
        return verb;
    }

    public boolean isFirst() {
        return first;
    }

    @Override
    public LiteralSpec literal() {
        return literal;
    }

    /** True when no literal follows: the command is complete. */
    public boolean isLast() {
        return literal == null;
    }

    /** The octets after "tag SP verb" on the first piece, or the whole piece otherwise, as text (for arguments). */
    public String arguments() {
        String s = content().toString(StandardCharsets.UTF_8);
        if (!first) {
            return s;
        }
        int sp = s.indexOf(' ');
        if (sp < 0) {
            return "";
        }
        int sp2 = s.indexOf(' ', sp + 1);
        return sp2 < 0 ? "" : s.substring(sp2 + 1);
    }

    /** The same first piece under another tag (the proxy's own, upstream). Does not consume this message. */
    public CommandLine withTag(String newTag) {
        if (!first) {
            throw new IllegalStateException("only the first piece carries the tag");
        }
        ByteBuf c = content();
        int oldLen = tag.getBytes(StandardCharsets.US_ASCII).length;
        ByteBuf out = Unpooled.wrappedBuffer(Unpooled.copiedBuffer(newTag, StandardCharsets.US_ASCII),
                c.retainedSlice(c.readerIndex() + oldLen, c.readableBytes() - oldLen));
        return new CommandLine(newTag, verb, out, true, literal);
    }

    /** The same piece announcing a different literal form (e.g. {@code {n+}} turned into {@code {n}} upstream). */
    public CommandLine withLiteral(LiteralSpec newLiteral) {
        return new CommandLine(tag, verb, content().retainedDuplicate(), first, newLiteral);
    }

    @Override
    public CommandLine replace(ByteBuf content) {
        return new CommandLine(tag, verb, content, first, literal);
    }

    @Override
    public CommandLine retain() {
        super.retain();
        return this;
    }

    @Override
    public String toString() {
        return "CommandLine(" + tag + " " + verb + (first ? "" : " cont") + (literal == null ? "" : " " + literal) + ")";
    }
}
