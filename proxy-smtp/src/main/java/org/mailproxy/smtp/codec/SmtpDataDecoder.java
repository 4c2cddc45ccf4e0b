package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.List;

/**
 * Reads one message's DATA (RFC 5321 4.1.1.4) with an explicit byte state machine, and removes the dot stuffing
 * (RFC 5321 4.5.2). The data ends only on CRLF.CRLF. A bare CR, a bare LF or a NUL refuses the message (SMTP
 * smuggling, CVE-2023-51764..66, SECURITY.md 13): from the first bad octet on, nothing more is emitted and the
 * decoder keeps reading until the real CRLF.CRLF, so a smuggled "second message" is swallowed, never delivered.
 * Emits content chunks (retained slices of the input, unstuffed, CRLF lines, the last line's CRLF included) and one
 * {@link DataEnd}.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>maxLineLength</th><td>octets of one line as sent (stuffing dot included, CRLF excluded); RFC 5321
 *       4.5.3.1.6 allows 998. Longer lines are refused rather than rewrapped.</td></tr>
 *   <tr><th>maxMessageSize</th><td>octets of unstuffed content (RFC 1870 SIZE).</td></tr>
 * </table>
 */
public final class SmtpDataDecoder {

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte DOT = '.';
    private static final ByteBuf CRLF = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[]{CR, LF}).asReadOnly());

    private enum State {
        /** After CRLF (or at the very start): a dot here is stuffing or the terminator. */
        LINE_START,
        /** A dot at line start. */
        DOT,
        /** Dot, CR at line start: LF ends the data. */
        DOT_CR,
        /** Inside a line. */
        IN_LINE,
        /** CR inside or at the end of a line: only LF may follow. */
        CR
    }

    private final int maxLineLength;
    private final long maxMessageSize;
    private State state = State.LINE_START;
    private int lineLength;
    private long size;
    private SmtpReply refusal;
    private boolean ended;

    public SmtpDataDecoder(int maxLineLength, long maxMessageSize) {
        this.maxLineLength = maxLineLength;
        this.maxMessageSize = maxMessageSize;
    }

    /**
     * Consumes octets from {@code in} up to and including the terminator, adding content chunks and, at the end, a
     * {@link DataEnd} to {@code out}.
     *
     * @return true when the data ended; {@code in}'s reader index is then just after the terminator
     */
    public boolean decode(ByteBuf in, List<Object> out) {
        if (ended) {
            throw new IllegalStateException("data already ended");
        }
        final int start = in.readerIndex();
        final int end = in.writerIndex();
        final boolean crFromBefore = state == State.CR || state == State.DOT_CR;
        int run = start;
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            switch (state) {
                case LINE_START -> {
                    lineLength = 0;
                    if (b == DOT) {
                        run = flush(in, run, i, out) + 1;
                        lineLength = 1;
                        state = State.DOT;
                    } else {
                        inLine(b);
                    }
                }
                case DOT -> {
                    if (b == CR) {
                        // Not part of the content (yet): only LF may follow and then the data ends.
                        run = i + 1;
                        state = State.DOT_CR;
                    } else if (b == DOT) {
                        // ".." at line start: the second dot is content.
                        state = State.IN_LINE;
                        lineLength++;
                    } else {
                        // RFC 5321 4.5.2: a leading dot followed by other text is dropped; the text is content.
                        inLine(b);
                    }
                }
                case DOT_CR -> {
                    if (b == LF) {
                        in.readerIndex(i + 1);
                        ended = true;
                        out.add(refusal == null ? DataEnd.OK : DataEnd.refused(refusal));
                        return true;
                    }
                    refuse(SmtpReplies.bareCarriageReturn());
                    run = i;
                    state = b == CR ? State.CR : State.IN_LINE;
                }
                case IN_LINE -> inLine(b);
                case CR -> {
                    if (b == LF) {
                        if (i == start && crFromBefore) {
                            // The CR was held back at the end of the previous input.
                            emit(CRLF.duplicate(), out);
                            run = i + 1;
                        }
                        state = State.LINE_START;
                    } else {
                        refuse(SmtpReplies.bareCarriageReturn());
                        state = b == CR ? State.CR : State.IN_LINE;
                    }
                }
                default -> throw new IllegalStateException(state.name());
            }
        }
        // Hold back a trailing CR (it may turn out to be bare) and never emit a DOT_CR's CR.
        int safeEnd = (state == State.CR || state == State.DOT_CR) && end > start && run < end ? end - 1 : end;
        if (state == State.DOT_CR) {
            safeEnd = Math.min(safeEnd, run);
        }
        flush(in, run, safeEnd, out);
        in.readerIndex(end);
        return false;
    }

    private void inLine(byte b) {
        if (b == CR) {
            state = State.CR;
            return;
        }
        state = State.IN_LINE;
        if (b == LF) {
            refuse(SmtpReplies.bareLineFeed());
            // A bare LF does not start a line: only CRLF does, so "\n.\r\n" cannot end the data.
            return;
        }
        if (b == 0) {
            refuse(SmtpReplies.nulInData());
        }
        if (++lineLength > maxLineLength) {
            refuse(SmtpReplies.dataLineTooLong(maxLineLength));
        }
    }

    private void refuse(SmtpReply reply) {
        if (refusal == null) {
            refusal = reply;
        }
    }

    /** Emits {@code in[from, to)} unless the message is already refused; returns {@code to}. */
    private int flush(ByteBuf in, int from, int to, List<Object> out) {
        if (to > from) {
            emit(in.retainedSlice(from, to - from), out);
        }
        return to;
    }

    private void emit(ByteBuf chunk, List<Object> out) {
        if (refusal != null) {
            chunk.release();
            return;
        }
        size += chunk.readableBytes();
        if (size > maxMessageSize) {
            refuse(SmtpReplies.messageTooBig(maxMessageSize));
            chunk.release();
            return;
        }
        out.add(chunk);
    }

    /** Octets of content emitted so far. */
    public long size() {
        return size;
    }
}
