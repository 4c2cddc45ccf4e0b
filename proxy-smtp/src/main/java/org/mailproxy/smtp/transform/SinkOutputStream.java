package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.OutputStream;

/** Collects what a transform writes into buffers of up to 16 KiB and hands each to the {@link ContentSink}. */
final class SinkOutputStream extends OutputStream {
    private static final int CHUNK = 16 * 1024;
    private final ContentSink sink;
    private final ByteBufAllocator alloc;
    private ByteBuf current;

    SinkOutputStream(ContentSink sink, ByteBufAllocator alloc) {
        this.sink = sink;
        this.alloc = alloc;
    }

    @Override
    public void write(int b) {
        ensure().writeByte(b);
        if (!current.isWritable()) {
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
            ByteBuf buf = ensure();
            int n = Math.min(len, buf.writableBytes());
            buf.writeBytes(b, off, n);
            off += n;
            len -= n;
            if (!buf.isWritable()) {
                flush();
            }
        }
    }

    private ByteBuf ensure() {
        if (current == null) {
            current = alloc.buffer(CHUNK, CHUNK);
        }
        return current;
    }

    @Override
    public void flush() {
        if (current != null) {
            ByteBuf b = current;
            current = null;
            sink.write(b);
        }
    }

    /** Drops what was not handed on yet (the message is abandoned). */
    void discard() {
        if (current != null) {
            current.release();
            current = null;
        }
    }

    @Override
    public void close() {
        flush();
    }
}
