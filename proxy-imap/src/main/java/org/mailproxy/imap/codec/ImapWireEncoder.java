package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Writes {@link WireLine}s, {@link LiteralChunk}s, {@link ContinuationLine}s and raw reply octets in either
 * direction. It keeps count of the literal each line announces: a chunk beyond the count, a "last" chunk short of
 * it, or anything else written in the middle of a literal fails the write instead of corrupting the framing
 * (SECURITY.md 19: a rewritten literal's count is always exact).
 */
public final class ImapWireEncoder extends MessageToMessageEncoder<Object> {

    private static final byte[] CRLF = {'\r', '\n'};

    private long literalRemaining;

    public ImapWireEncoder() {
        super(Object.class);
    }

    /**
     * The peer refused the command before asking for its announced literal (a tagged NO instead of "+"), so its
     * octets will never be sent: the next line starts a new command.
     */
    public void abandonLiteral() {
        literalRemaining = 0;
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof WireLine || msg instanceof LiteralChunk || msg instanceof ContinuationLine
                || msg instanceof ByteBuf;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof LiteralChunk chunk) {
            int n = chunk.content().readableBytes();
            if (n > literalRemaining) {
                throw new EncoderException("literal chunk of " + n + " octets exceeds the " + literalRemaining + " announced");
            }
            literalRemaining -= n;
            if (chunk.isLast() && literalRemaining != 0) {
                throw new EncoderException("literal ended " + literalRemaining + " octets short of its count");
            }
            out.add(chunk.content().retain());
            return;
        }
        if (literalRemaining != 0) {
            throw new EncoderException("a line was written inside a literal (" + literalRemaining + " octets missing)");
        }
        if (msg instanceof WireLine line) {
            out.add(line.content().retain());
            LiteralSpec spec = line.literal();
            if (spec != null) {
                byte[] marker = spec.marker();
                ByteBuf tail = ctx.alloc().buffer(marker.length + 2);
                tail.writeBytes(marker).writeBytes(CRLF);
                out.add(tail);
                literalRemaining = spec.size();
            } else {
                out.add(Unpooled.wrappedBuffer(CRLF));
            }
        } else if (msg instanceof ContinuationLine line) {
            out.add(line.content().retain());
            out.add(Unpooled.wrappedBuffer(CRLF));
        } else {
            out.add(((ByteBuf) msg).retain());
        }
    }
}
