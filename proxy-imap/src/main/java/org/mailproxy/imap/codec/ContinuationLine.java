package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A client line that answers a continuation request rather than starting a command: an AUTHENTICATE response
 * (RFC 9051 6.2.2) or the {@code DONE} that ends IDLE (RFC 2177). May carry credentials: never log its content.
 */
public final class ContinuationLine extends DefaultByteBufHolder {

    public ContinuationLine(ByteBuf content) {
        super(content);
    }

    @Override
    public ContinuationLine replace(ByteBuf content) {
        return new ContinuationLine(content);
    }

    @Override
    public ContinuationLine retain() {
        super.retain();
        return this;
    }

    @Override
    public String toString() {
        return "ContinuationLine(" + content().readableBytes() + " octets)";
    }
}
