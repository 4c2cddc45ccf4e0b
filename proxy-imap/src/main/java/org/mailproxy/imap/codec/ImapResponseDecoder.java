package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Frames the provider's responses (RFC 9051 7, grammar in 9) into {@link ResponseLine} pieces and
 * {@link LiteralChunk}s. Status responses (OK, NO, BAD, BYE, PREAUTH, tagged or untagged) are split into response
 * code and text, which never hold literals. Data responses are tokenized: atoms, quoted strings, nested lists and
 * a literal at the end of a piece, whose octets are counted and streamed, never searched for tags or line ends
 * (SECURITY.md 19).
 *
 * <table>
 *   <caption>Limits (all fatal: a {@link ResponseError}, then {@code BAD_MESSAGE})</caption>
 *   <tr><td>{@code maxResponseLine}</td><td>octets of all line pieces of one response, literals excluded</td></tr>
 *   <tr><td>{@code maxParenDepth}</td><td>nesting of parenthesised lists (BODYSTRUCTURE)</td></tr>
 *   <tr><td>NUL, bare CR or LF in a line, a literal size beyond 18 digits</td><td>SECURITY.md 18</td></tr>
 * </table>
 */
public final class ImapResponseDecoder extends ByteToMessageDecoder {

    private static final Set<String> STATUS = Set.of("OK", "NO", "BAD", "BYE", "PREAUTH");

    private enum State { LINE, LITERAL, BAD_MESSAGE }

    private final int maxResponseLine;
    private final int maxParenDepth;

    private State state = State.LINE;
    private boolean inResponse;
    private int lineOctets;
    private int depth;
    private long literalRemaining;
    private String tag;
    private long number;
    private String name;
    private ResponseLine.Kind kind;

    public ImapResponseDecoder(int maxResponseLine, int maxParenDepth) {
        this.maxResponseLine = maxResponseLine;
        this.maxParenDepth = maxParenDepth;
    }

    /** Octets received but not decoded yet; after a STARTTLS OK they mean response injection (SECURITY.md 10). */
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
        int budget = Math.max(0, maxResponseLine - lineOctets);
        int start = in.readerIndex();
        int lf = in.indexOf(start, start + (int) Math.min(in.readableBytes(), (long) budget + 2), (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() > budget + 1) {
                fatal(in, out, "response line longer than " + maxResponseLine + " octets");
            }
            return;
        }
        if (lf == start || in.getByte(lf - 1) != '\r') {
            fatal(in, out, "response line not ended by CRLF");
            return;
        }
        int end = lf - 1;
        for (int i = start; i < end; i++) {
            byte b = in.getByte(i);
            if (b == 0 || b == '\r') {
                fatal(in, out, b == 0 ? "NUL in a response line" : "CR inside a response line");
                return;
            }
        }
        lineOctets += end - start;
        try {
            ResponseLine line = inResponse ? continuation(in, start, end) : firstPiece(in, start, end);
            in.readerIndex(lf + 1);
            out.add(line);
            if (line.literal() == null) {
                inResponse = false;
                lineOctets = 0;
                depth = 0;
            } else {
                inResponse = true;
                literalRemaining = line.literal().size();
                state = State.LITERAL;
                if (literalRemaining == 0) {
                    state = State.LINE;
                    out.add(new LiteralChunk(in.alloc().buffer(0), true));
                }
            }
        } catch (Malformed e) {
            fatal(in, out, e.getMessage());
        }
    }

    private ResponseLine firstPiece(ByteBuf in, int start, int end) throws Malformed {
        String head = in.toString(start, Math.min(end - start, 64), StandardCharsets.ISO_8859_1);
        if (head.startsWith("+")) {
            String text = end - start > 2 ? in.toString(start + 2, end - start - 2, StandardCharsets.ISO_8859_1) : "";
            return new ResponseLine(ResponseLine.Kind.CONTINUATION, null, -1, "+", true, null, text, List.of(),
                    in.retainedSlice(start, end - start), null);
        }
        int sp = in.indexOf(start, end, (byte) ' ');
        if (sp < 0) {
            throw new Malformed("response without a name");
        }
        int pos = sp + 1;
        number = -1;
        if (head.startsWith("* ")) {
            kind = ResponseLine.Kind.UNTAGGED;
            tag = null;
            int nameEnd = wordEnd(in, pos, end);
            if (nameEnd > pos && Literals.isDigit(in.getByte(pos)) && allDigits(in, pos, nameEnd)) {
                if (nameEnd - pos > 10) {
                    throw new Malformed("message number too large");
                }
                number = Long.parseLong(in.toString(pos, nameEnd - pos, StandardCharsets.US_ASCII));
                pos = nameEnd + 1;
                if (pos > end) {
                    throw new Malformed("number without a response name");
                }
            }
        } else {
            kind = ResponseLine.Kind.TAGGED;
            tag = in.toString(start, sp - start, StandardCharsets.US_ASCII);
        }
        int nameEnd = wordEnd(in, pos, end);
        if (nameEnd == pos) {
            throw new Malformed("response without a name");
        }
        name = in.toString(pos, nameEnd - pos, StandardCharsets.US_ASCII).toUpperCase(Locale.ROOT);
        if (STATUS.contains(name)) {
            return status(in, start, end, nameEnd);
        }
        if (kind == ResponseLine.Kind.TAGGED) {
            throw new Malformed("tagged response that is not OK, NO or BAD");
        }
        List<ImapToken> tokens = new ArrayList<>();
        LiteralSpec literal = tokenize(in, nameEnd, end, tokens);
        return piece(in, start, end, tokens, literal, true);
    }

    private ResponseLine continuation(ByteBuf in, int start, int end) throws Malformed {
        List<ImapToken> tokens = new ArrayList<>();
        LiteralSpec literal = tokenize(in, start, end, tokens);
        return piece(in, start, end, tokens, literal, false);
    }

    private ResponseLine piece(ByteBuf in, int start, int end, List<ImapToken> tokens, LiteralSpec literal, boolean first) {
        int contentEnd = end;
        if (literal != null) {
            contentEnd = Literals.markerStart(in, start, end);
        }
        return new ResponseLine(kind, tag, number, name, first, null, null, tokens,
                in.retainedSlice(start, contentEnd - start), literal);
    }

    /** resp-cond-state / resp-cond-bye: {@code [SP "[" resp-text-code "]"] [SP text]}; no literals possible. */
    private ResponseLine status(ByteBuf in, int start, int end, int nameEnd) {
        String rest = nameEnd < end ? in.toString(nameEnd + 1, end - nameEnd - 1, StandardCharsets.ISO_8859_1) : "";
        String code = null;
        String text = rest;
        if (rest.startsWith("[")) {
            int close = rest.indexOf(']');
            if (close > 0) {
                code = rest.substring(1, close);
                text = rest.substring(close + 1).stripLeading();
            }
        }
        return new ResponseLine(kind, tag, number, name, true, code, text, List.of(),
                in.retainedSlice(start, end - start), null);
    }

    /** Tokens of a data response from {@code from}; returns the literal that ends the piece, if any. */
    private LiteralSpec tokenize(ByteBuf in, int from, int end, List<ImapToken> tokens) throws Malformed {
        int i = from;
        while (i < end) {
            byte b = in.getByte(i);
            if (b == ' ') {
                i++;
            } else if (b == '(') {
                if (++depth > maxParenDepth) {
                    throw new Malformed("lists nested deeper than " + maxParenDepth);
                }
                tokens.add(i > from && in.getByte(i - 1) == ')' ? ImapToken.JOINED_OPEN : ImapToken.OPEN);
                i++;
            } else if (b == ')') {
                if (--depth < 0) {
                    throw new Malformed("unbalanced parenthesis");
                }
                tokens.add(ImapToken.CLOSE);
                i++;
            } else if (b == '"') {
                StringBuilder sb = new StringBuilder();
                i++;
                while (true) {
                    if (i >= end) {
                        throw new Malformed("unterminated quoted string");
                    }
                    byte c = in.getByte(i++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (i >= end) {
                            throw new Malformed("unterminated quoted string");
                        }
                        c = in.getByte(i++);
                    }
                    sb.append((char) (c & 0xff));
                }
                tokens.add(new ImapToken.Quoted(sb.toString()));
            } else if ((b == '{' || b == '~') && Literals.markerStart(in, i, end) == i) {
                LiteralSpec spec = Literals.parse(in, i, end);
                if (spec.size() == Long.MAX_VALUE) {
                    throw new Malformed("literal size out of range");
                }
                if (!spec.synchronizing()) {
                    throw new Malformed("non-synchronizing literal in a response");
                }
                tokens.add(new ImapToken.Literal(spec));
                return spec;
            } else {
                int j = i;
                while (j < end) {
                    byte c = in.getByte(j);
                    if (c == ' ' || c == '(' || c == ')' || c == '"') {
                        break;
                    }
                    if ((c == '{' || c == '~') && Literals.markerStart(in, j, end) == j) {
                        break;
                    }
                    j++;
                }
                tokens.add(new ImapToken.Atom(in.toString(i, j - i, StandardCharsets.ISO_8859_1)));
                i = j;
            }
        }
        return null;
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

    private void fatal(ByteBuf in, List<Object> out, String reason) {
        in.skipBytes(in.readableBytes());
        state = State.BAD_MESSAGE;
        out.add(new ResponseError(reason));
    }

    private static int wordEnd(ByteBuf in, int from, int end) {
        int i = from;
        while (i < end && in.getByte(i) != ' ') {
            i++;
        }
        return i;
    }

    private static boolean allDigits(ByteBuf in, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!Literals.isDigit(in.getByte(i))) {
                return false;
            }
        }
        return true;
    }

    private static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }
}
