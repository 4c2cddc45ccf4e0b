package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Frames what the client sends: command lines as {@link SmtpRequest}s, and while the session says so, message data
 * through a {@link SmtpDataDecoder} (content chunks, then a {@link DataEnd}).
 *
 * <p>After a line whose meaning changes what the following octets are ({@code DATA}: content or commands, depending
 * on the upstream's answer; {@code STARTTLS}: TLS or commands) the decoder pauses and keeps the octets that follow
 * until the session calls {@link #startData}, {@link #resume} or checks {@link #hasBufferedInput()}. While paused it
 * asks for no more input, so the buffer stays bounded. The channel must have auto-read off; the decoder asks for more
 * input only when it holds an incomplete frame, and otherwise leaves reading to the session.
 *
 * <p>A line that looks like HTTP closes the decoder for good (SECURITY.md 16): browsers can be made to send requests
 * to any local port.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>maxLineLength</th><td>octets of a command line without CRLF (smtp.limits.max-command-line); a longer
 *       line is discarded up to its LF and reported as {@link SmtpInputError#LINE_TOO_LONG}.</td></tr>
 * </table>
 */
public final class SmtpCommandDecoder extends ChannelInboundHandlerAdapter {

    private static final String[] HTTP_PREFIXES = {
        "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH ",
        "HOST:", "USER-AGENT:", "CONTENT-LENGTH:", "CONTENT-TYPE:", "ACCEPT:"
    };

    private enum Mode { COMMAND, PAUSED, DATA, CLOSED }

    private final int maxLineLength;
    private ChannelHandlerContext ctx;
    private ByteBuf buffer;
    private Mode mode = Mode.COMMAND;
    private SmtpDataDecoder data;
    private boolean discardingLongLine;
    private boolean emitted;
    private boolean decoding;

    public SmtpCommandDecoder(int maxLineLength) {
        this.maxLineLength = maxLineLength;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseBuffer();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (mode == Mode.CLOSED) {
            in.release();
            return;
        }
        buffer = buffer == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), buffer, in);
        decodeAvailable();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (!emitted && mode != Mode.PAUSED && mode != Mode.CLOSED) {
            // An incomplete frame: more octets are needed before the session can act.
            ctx.read();
        }
        emitted = false;
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // Partial data is not a message: no DataEnd here (a client that disconnects mid-DATA sends nothing).
        releaseBuffer();
        mode = Mode.CLOSED;
        super.channelInactive(ctx);
    }

    /** The upstream answered DATA with 354: the octets that follow are message content. */
    public void startData(int maxDataLineLength, long maxMessageSize) {
        requireMode(Mode.PAUSED);
        data = new SmtpDataDecoder(maxDataLineLength, maxMessageSize);
        mode = Mode.DATA;
        decodeAvailable();
        completeIfEmitted();
    }

    /** Go on reading commands (after a refused DATA, or once STARTTLS is done). */
    public void resume() {
        if (mode == Mode.CLOSED) {
            return;
        }
        requireMode(Mode.PAUSED);
        mode = Mode.COMMAND;
        decodeAvailable();
        completeIfEmitted();
    }

    /** True when octets are waiting that were sent after the last line; after STARTTLS that is an attack. */
    public boolean hasBufferedInput() {
        return buffer != null && buffer.isReadable();
    }

    public boolean isPaused() {
        return mode == Mode.PAUSED;
    }

    private void requireMode(Mode expected) {
        if (mode != expected) {
            throw new IllegalStateException("decoder is " + mode + ", not " + expected);
        }
    }

    private void completeIfEmitted() {
        if (emitted && !decoding) {
            emitted = false;
            ctx.fireChannelReadComplete();
        }
    }

    private void decodeAvailable() {
        if (decoding) {
            // Called back from a handler further on while we are firing: the outer loop carries on.
            return;
        }
        decoding = true;
        try {
            List<Object> out = new ArrayList<>(4);
            while (buffer != null && buffer.isReadable() && mode != Mode.PAUSED && mode != Mode.CLOSED) {
                if (mode == Mode.DATA) {
                    if (data.decode(buffer, out)) {
                        data = null;
                        mode = Mode.COMMAND;
                    }
                } else if (!decodeLine(out)) {
                    break;
                }
                fire(out);
            }
            fire(out);
        } finally {
            decoding = false;
            if (buffer != null) {
                if (!buffer.isReadable()) {
                    releaseBuffer();
                } else if (buffer.refCnt() == 1) {
                    // Emitted slices share the buffer while refCnt > 1; moving bytes then would corrupt them.
                    buffer.discardSomeReadBytes();
                }
            }
        }
    }

    private void fire(List<Object> out) {
        for (int i = 0; i < out.size(); i++) {
            emitted = true;
            ctx.fireChannelRead(out.get(i));
        }
        out.clear();
    }

    /** Decodes one line from the buffer; false when no complete line is there. */
    private boolean decodeLine(List<Object> out) {
        int from = buffer.readerIndex();
        int lf = buffer.indexOf(from, buffer.writerIndex(), (byte) '\n');
        if (lf < 0) {
            if (discardingLongLine || buffer.readableBytes() > maxLineLength + 1) {
                // Drop what we have of the over-long line; keep dropping until its LF.
                buffer.skipBytes(buffer.readableBytes());
                discardingLongLine = true;
            }
            return false;
        }
        int length = lf - from;
        if (discardingLongLine || length > maxLineLength + 1) {
            buffer.readerIndex(lf + 1);
            discardingLongLine = false;
            out.add(SmtpInputError.LINE_TOO_LONG);
            return true;
        }
        boolean crlf = length > 0 && buffer.getByte(lf - 1) == '\r';
        int textLength = crlf ? length - 1 : length;
        String line = buffer.toString(from, textLength, StandardCharsets.ISO_8859_1);
        buffer.readerIndex(lf + 1);
        if (looksLikeHttp(line)) {
            mode = Mode.CLOSED;
            releaseBuffer();
            out.add(SmtpInputError.HTTP_REQUEST);
            return true;
        }
        if (!crlf || line.indexOf('\r') >= 0 || line.indexOf('\0') >= 0) {
            out.add(SmtpInputError.BAD_LINE_ENDING);
            return true;
        }
        if (textLength > maxLineLength) {
            out.add(SmtpInputError.LINE_TOO_LONG);
            return true;
        }
        SmtpRequest request = new SmtpRequest(line);
        SmtpCommand c = request.command();
        if (c.equals(SmtpCommand.DATA) || c.equals(SmtpCommand.STARTTLS)) {
            mode = Mode.PAUSED;
        }
        out.add(request);
        return true;
    }

    static boolean looksLikeHttp(String line) {
        String upper = line.length() > 20 ? line.substring(0, 20).toUpperCase(Locale.ROOT) : line.toUpperCase(Locale.ROOT);
        for (String p : HTTP_PREFIXES) {
            if (upper.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    private void releaseBuffer() {
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
