package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.mailproxy.imap.protocol.ImapError;
import org.mailproxy.imap.protocol.ImapVerb;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Frames client commands (RFC 9051 2.2.1, 4.3) into {@link CommandLine} pieces and {@link LiteralChunk}s, or a
 * {@link ContinuationLine} when the session has {@linkplain #armContinuationLine() armed} it (AUTHENTICATE
 * responses, IDLE's DONE). Literals are counted, never scanned, and delivered in chunks as they arrive.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>limit</th><th>on overrun</th></tr>
 *   <tr><td>{@code maxCommandLine}: octets of all line pieces of one command, literals excluded</td>
 *       <td>{@code * BAD}, then close (fatal)</td></tr>
 *   <tr><td>{@code maxLiteral}: a synchronizing literal, checked before any "+" is sent (SECURITY.md 17)</td>
 *       <td>tagged {@code NO [TOOBIG]}; the command is dropped and the session continues</td></tr>
 *   <tr><td>{@code maxNonSyncLiteral}: a {@code {n+}} literal (RFC 7888 4, LITERAL-)</td>
 *       <td>tagged {@code BAD [TOOBIG]}, then close: its octets are already on the way</td></tr>
 * </table>
 * NUL, CR or a bare LF in a line are fatal (SECURITY.md 18). An invalid tag gets an untagged BAD, a missing verb a
 * tagged BAD, and decoding continues with the next line. After a fatal error the decoder is in {@code BAD_MESSAGE}
 * and discards all input until the channel closes.
 */
public final class ImapCommandDecoder extends ByteToMessageDecoder {

    private enum State { LINE, LITERAL, BAD_MESSAGE }

    private final int maxCommandLine;
    private final long maxLiteral;
    private final long maxNonSyncLiteral;

    private State state = State.LINE;
    private boolean inCommand;
    private String tag;
    private ImapVerb verb;
    private int lineOctets;
    private LiteralSpec literal;
    private long literalRemaining;
    private boolean continuationArmed;

    public ImapCommandDecoder(int maxCommandLine, long maxLiteral, long maxNonSyncLiteral) {
        this.maxCommandLine = maxCommandLine;
        this.maxLiteral = maxLiteral;
        this.maxNonSyncLiteral = maxNonSyncLiteral;
    }

    /** The next line that does not continue a command is a {@link ContinuationLine}. One line only. */
    public void armContinuationLine() {
        continuationArmed = true;
    }

    /**
     * Forgets the command whose synchronizing literal was just announced, when the "+" will never be sent (the
     * command was refused). Returns false if octets of the literal have already arrived (the client did not wait):
     * then the literal is still counted and delivered, and the caller must discard it.
     */
    public boolean abortPendingLiteral() {
        if (state == State.LITERAL && literal.synchronizing() && literalRemaining == literal.size()) {
            reset();
            return true;
        }
        return false;
    }

    /** True while the decoder waits for octets of a synchronizing literal that nobody has sent "+" for yet. */
    public boolean awaitingLiteral() {
        return state == State.LITERAL;
    }

    /** Octets received but not decoded yet; after STARTTLS they mean command injection (SECURITY.md 10). */
    public int bufferedOctets() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case LINE -> decodeLine(in, out);
            case LITERAL -> decodeLiteral(in, out);
            case BAD_MESSAGE -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeLine(ByteBuf in, List<Object> out) {
        int budget = Math.max(0, maxCommandLine - lineOctets);
        int start = in.readerIndex();
        int searchLen = (int) Math.min(in.readableBytes(), (long) budget + 2);
        int lf = in.indexOf(start, start + searchLen, (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() > budget + 1) {
                fatal(in, out, ImapError.bad("Command line too long"));
            }
            return;
        }
        int end = lf; // exclusive, before LF
        if (end == start || in.getByte(end - 1) != '\r') {
            fatal(in, out, ImapError.bad("Line must end with CRLF"));
            return;
        }
        end--;
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            if (b == 0 || b == '\r') {
                fatal(in, out, ImapError.bad(b == 0 ? "NUL octet in command" : "CR inside a command line"));
                return;
            }
        }
        if (continuationArmed && !inCommand) {
            continuationArmed = false;
            ByteBuf content = in.retainedSlice(start, end - start);
            in.readerIndex(lf + 1);
            out.add(new ContinuationLine(content));
            return;
        }
        lineOctets += end - start;
        boolean first = !inCommand;
        int markerAt = first ? -1 : Literals.markerStart(in, start, end);
        LiteralSpec spec = null;
        int argsFrom = start;
        if (first) {
            int sp = in.indexOf(start, end, (byte) ' ');
            int tagEnd = sp < 0 ? end : sp;
            if (tagEnd == start || !validTag(in, start, tagEnd)) {
                int m = Literals.markerStart(in, start, end);
                boolean nonSync = m >= 0 && !Literals.parse(in, m, end).synchronizing();
                in.readerIndex(lf + 1);
                if (nonSync) {
                    fatal(in, out, ImapError.bad("Invalid tag"));
                } else {
                    reset();
                    out.add(new CommandError(null, ImapError.bad("Invalid tag"), false));
                }
                return;
            }
            tag = in.toString(start, tagEnd - start, StandardCharsets.US_ASCII);
            argsFrom = tagEnd + 1;
            int verbEnd = sp < 0 ? end : in.indexOf(argsFrom, end, (byte) ' ');
            if (verbEnd < 0) {
                verbEnd = end;
            }
            markerAt = Literals.markerStart(in, argsFrom, end);
            if (sp < 0 || verbEnd == argsFrom || (markerAt >= 0 && markerAt < verbEnd) || !atom(in, argsFrom, verbEnd)) {
                boolean nonSync = markerAt >= 0 && !Literals.parse(in, markerAt, end).synchronizing();
                String t = tag;
                in.readerIndex(lf + 1);
                if (nonSync) {
                    fatal(in, out, new ImapError(ImapError.Status.BAD, null, "Missing or invalid command"), t);
                } else {
                    reset();
                    out.add(new CommandError(t, ImapError.bad("Missing or invalid command"), false));
                }
                return;
            }
            verb = ImapVerb.valueOf(in.toString(argsFrom, verbEnd - argsFrom, StandardCharsets.US_ASCII));
        }
        if (markerAt >= 0 && insideQuotes(in, start, markerAt)) {
            markerAt = -1;
        }
        if (markerAt >= 0) {
            spec = Literals.parse(in, markerAt, end);
            if (spec.synchronizing() && spec.size() > maxLiteral) {
                String t = tag;
                in.readerIndex(lf + 1);
                reset();
                out.add(new CommandError(t, ImapError.tooBig("Literal too large (limit " + maxLiteral + " octets)"), false));
                return;
            }
            if (!spec.synchronizing() && spec.size() > maxNonSyncLiteral) {
                String t = tag;
                in.readerIndex(lf + 1);
                // RFC 7888 4: the octets follow without waiting; the only safe answer is BAD and close.
                fatal(in, out, new ImapError(ImapError.Status.BAD, "TOOBIG",
                        "Non-synchronizing literal too large (limit " + maxNonSyncLiteral + " octets)"), t);
                return;
            }
        }
        int contentEnd = markerAt >= 0 ? markerAt : end;
        ByteBuf content = in.retainedSlice(start, contentEnd - start);
        in.readerIndex(lf + 1);
        out.add(new CommandLine(tag, verb, content, first, spec));
        if (spec == null) {
            reset();
        } else {
            inCommand = true;
            literal = spec;
            literalRemaining = spec.size();
            state = State.LITERAL;
            if (spec.size() == 0) {
                state = State.LINE;
                out.add(new LiteralChunk(in.alloc().buffer(0), true));
            }
        }
    }

    private void decodeLiteral(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(in.readableBytes(), literalRemaining);
        if (n == 0) {
            return;
        }
        ByteBuf chunk = in.readRetainedSlice(n);
        literalRemaining -= n;
        boolean last = literalRemaining == 0;
        if (last) {
            state = State.LINE;
        }
        out.add(new LiteralChunk(chunk, last));
    }

    private void fatal(ByteBuf in, List<Object> out, ImapError error) {
        fatal(in, out, error, null);
    }

    private void fatal(ByteBuf in, List<Object> out, ImapError error, String errorTag) {
        in.skipBytes(in.readableBytes());
        state = State.BAD_MESSAGE;
        out.add(new CommandError(errorTag, error, true));
    }

    private void reset() {
        state = State.LINE;
        inCommand = false;
        lineOctets = 0;
        literal = null;
        literalRemaining = 0;
    }

    /** RFC 9051 9: tag = 1*(ASTRING-CHAR except "+"). */
    private static boolean validTag(ByteBuf in, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (b <= 0x20 || b >= 0x7f || b == '+' || b == '(' || b == ')' || b == '{' || b == '%' || b == '*'
                    || b == '"' || b == '\\') {
                return false;
            }
        }
        return true;
    }

    private static boolean atom(ByteBuf in, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (b <= 0x20 || b >= 0x7f || b == '(' || b == ')' || b == '{' || b == '%' || b == '*' || b == '"'
                    || b == '\\' || b == ']') {
                return false;
            }
        }
        return true;
    }

    /** True if position {@code at} of the piece lies inside a quoted string (RFC 9051 4.3). */
    private static boolean insideQuotes(ByteBuf in, int from, int at) {
        boolean quoted = false;
        for (int i = from; i < at; i++) {
            byte b = in.getByte(i);
            if (quoted && b == '\\') {
                i++;
            } else if (b == '"') {
                quoted = !quoted;
            }
        }
        return quoted;
    }
}
