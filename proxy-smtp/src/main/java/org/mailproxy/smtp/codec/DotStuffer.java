package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Turns message content into DATA for the upstream (RFC 5321 4.5.2): a dot that starts a line gets another dot
 * before it, and {@link #end} writes the terminator. It also checks what it is given, since a transform wrote it:
 * lines end with CRLF, no bare CR, bare LF or NUL, and no line longer than {@code maxLineLength} octets as sent
 * (SECURITY.md 13). A violation is a bug in the transform and throws {@link IllegalStateException}: the message is
 * then aborted, never sent half-checked. The counterpart that removes stuffing is {@link SmtpDataDecoder}.
 */
public final class DotStuffer {

    private final int maxLineLength;
    private boolean lineStart = true;
    private boolean cr;
    private int lineLength;

    public DotStuffer(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    /** Returns {@code content} stuffed, in a new buffer; {@code content} is read but not released. */
    public ByteBuf stuff(ByteBufAllocator alloc, ByteBuf content) {
        int n = content.readableBytes();
        ByteBuf out = alloc.buffer(n + 16);
        try {
            int from = content.readerIndex();
            int end = content.writerIndex();
            int run = from;
            for (int i = from; i < end; i++) {
                byte b = content.getByte(i);
                if (cr) {
                    if (b != '\n') {
                        throw new IllegalStateException("bare CR in message content");
                    }
                    cr = false;
                    lineStart = true;
                    lineLength = 0;
                    continue;
                }
                if (b == '\r') {
                    cr = true;
                    continue;
                }
                if (b == '\n') {
                    throw new IllegalStateException("bare LF in message content");
                }
                if (b == 0) {
                    throw new IllegalStateException("NUL in message content");
                }
                if (lineStart && b == '.') {
                    out.writeBytes(content, run, i - run);
                    out.writeByte('.');
                    run = i;
                    lineLength++;
                }
                lineStart = false;
                if (++lineLength > maxLineLength) {
                    throw new IllegalStateException("message content line longer than " + maxLineLength + " octets");
                }
            }
            out.writeBytes(content, run, end - run);
            content.skipBytes(n);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** The end of data: CRLF first when the content did not end with one, then ".CRLF". */
    public ByteBuf end(ByteBufAllocator alloc) {
        if (cr) {
            throw new IllegalStateException("message content ends with a bare CR");
        }
        ByteBuf out = alloc.buffer(5);
        if (!lineStart) {
            out.writeByte('\r').writeByte('\n');
        }
        out.writeByte('.').writeByte('\r').writeByte('\n');
        lineStart = true;
        return out;
    }
}
