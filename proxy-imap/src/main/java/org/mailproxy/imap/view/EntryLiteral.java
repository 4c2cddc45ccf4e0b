package org.mailproxy.imap.view;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import org.mailproxy.imap.codec.LiteralChunk;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * The octets of a literal read from a view's cache entry, chunk by chunk, for Netty's {@code ChunkedWriteHandler}:
 * it writes the next chunk only while the client keeps up, so a 50 MB decrypted attachment is never held in memory.
 * Exactly {@code length} octets, the last chunk marked (the wire encoder checks the count).
 */
public final class EntryLiteral implements ChunkedInput<LiteralChunk> {

    private static final int CHUNK = 64 * 1024;

    private final InputStream in;
    private final long length;
    private long sent;
    private boolean done;

    public EntryLiteral(InputStream in, long length) {
        this.in = in;
        this.length = length;
    }

    @Override
    public boolean isEndOfInput() {
        return done;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    @Deprecated
    @Override
    public LiteralChunk readChunk(ChannelHandlerContext ctx) throws Exception {
        return readChunk(ctx.alloc());
    }

    @Override
    public LiteralChunk readChunk(ByteBufAllocator alloc) throws Exception {
        if (done) {
            return null;
        }
        int n = (int) Math.min(CHUNK, length - sent);
        ByteBuf buf = alloc.heapBuffer(n);
        try {
            int read = 0;
            while (read < n) {
                int r = buf.writeBytes(in, n - read);
                if (r < 0) {
                    throw new EOFException("cache entry shorter than its section");
                }
                read += r;
            }
        } catch (IOException | RuntimeException e) {
            buf.release();
            throw e;
        }
        sent += n;
        done = sent == length;
        return new LiteralChunk(buf, done);
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return sent;
    }
}
