package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.OutputStream;

/**
 * Collects what a transform writes into chunks of up to 16 KiB and hands each to the {@link ContentSink} as a
 * buffer. Bouncy Castle's armor writes one octet at a time, so the octets gather in a plain array first.
 */
final class SinkOutputStream extends OutputStream {
    private static final int CHUNK = 16 * 1024;
    private final ContentSink sink;
    private final ByteBufAllocator alloc;
    private final byte[] chunk = new byte[CHUNK];
    private int filled;

    SinkOutputStream(ContentSink sink, ByteBufAllocator alloc) {
        this.sink = sink;
        this.alloc = alloc;
    }

    @Override
    public void write(int b) {
        chunk[filled++] = (byte) b;
        if (filled == CHUNK) {
            flush();
        }
    }

    @Override
    public void write(byte[] b) {
        write(b, 0, b.length);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        while (len > 0) {
            int n = Math.min(len, CHUNK - filled);
            System.arraycopy(b, off, chunk, filled, n);
            filled += n;
            off += n;
            len -= n;
            if (filled == CHUNK) {
                flush();
            }
        }
    }

    @Override
    public void flush() {
        if (filled > 0) {
            ByteBuf out = alloc.buffer(filled, filled);
            out.writeBytes(chunk, 0, filled);
            filled = 0;
            sink.write(out);
        }
    }

    /** Drops what was not handed on yet (the message is abandoned). */
    void discard() {
        filled = 0;
    }

    @Override
    public void close() {
        flush();
    }
}
