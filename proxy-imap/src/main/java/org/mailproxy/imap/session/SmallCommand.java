package org.mailproxy.imap.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.mailproxy.imap.codec.CommandLine;
import org.mailproxy.imap.codec.LiteralChunk;
import org.mailproxy.imap.protocol.ImapVerb;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A command the proxy answers itself before login (LOGIN, AUTHENTICATE, ID...), collected whole: its line pieces
 * without tag and verb, and its literals, at most {@code limit} octets in all. Its segments alternate line, literal,
 * line..., as {@link ArgumentReader} reads them.
 */
final class SmallCommand {

    enum Step { NEED_MORE, COMPLETE, TOO_BIG }

    private final String tag;
    private final ImapVerb verb;
    private final int limit;
    private final List<byte[]> segments = new ArrayList<>();
    private ByteArrayOutputStream literal;
    private long octets;

    SmallCommand(CommandLine first, int limit) {
        this.tag = first.tag();
        this.verb = first.verb();
        this.limit = limit;
    }

    String tag() {
        return tag;
    }

    ImapVerb verb() {
        return verb;
    }

    List<byte[]> segments() {
        return segments;
    }

    /** Adds a line piece; says whether the command is complete, needs its literal, or would exceed the limit. */
    Step addLine(CommandLine line) {
        ByteBuf c = line.content();
        int skip = 0;
        if (line.isFirst()) {
            skip = Math.min(c.readableBytes(), tag.length() + 1 + verb.name().length() + 1);
        }
        segments.add(ByteBufUtil.getBytes(c, c.readerIndex() + skip, c.readableBytes() - skip));
        octets += c.readableBytes();
        if (line.literal() == null) {
            return Step.COMPLETE;
        }
        if (octets + line.literal().size() > limit) {
            return Step.TOO_BIG;
        }
        literal = new ByteArrayOutputStream((int) line.literal().size());
        return Step.NEED_MORE;
    }

    void addLiteral(LiteralChunk chunk) {
        if (literal == null) {
            return;
        }
        literal.writeBytes(ByteBufUtil.getBytes(chunk.content()));
        if (chunk.isLast()) {
            octets += literal.size();
            segments.add(literal.toByteArray());
            literal = null;
        }
    }
}
