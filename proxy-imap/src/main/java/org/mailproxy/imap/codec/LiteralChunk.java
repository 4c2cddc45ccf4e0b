package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * Some octets of a literal, in order. Large literals (APPEND, FETCH BODY[]) arrive as many chunks and are never
 * held whole; {@code last} marks the chunk that completes the announced count.
 */
public final class LiteralChunk extends DefaultByteBufHolder {
    private final boolean last;

    public LiteralChunk(ByteBuf content, boolean last) {
        super(content);
        this.last = last;
    }

    public boolean isLast() {
        return last;
    }

    @Override
    public LiteralChunk replace(ByteBuf content) {
        return new LiteralChunk(content, last);
    }

    @Override
    public LiteralChunk retain() {
        super.retain();
        return this;
    }

    @Override
    public String toString() {
        return "LiteralChunk(" + content().readableBytes() + (last ? ", last)" : ")");
    }
}
