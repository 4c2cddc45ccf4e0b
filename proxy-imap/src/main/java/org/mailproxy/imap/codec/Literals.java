package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;

/** Finds a literal announcement at the end of a line piece, without overflow (SECURITY.md 17). */
final class Literals {

    /** More digits than this is refused outright: 10^18 octets is beyond any limit and still fits in a long. */
    static final int MAX_DIGITS = 18;

    private Literals() {
    }

    /**
     * The index where the marker starts ({@code ~} or <code>{</code>) if {@code buf[from, to)} ends with
     * <code>{digits}</code>, <code>{digits+}</code> or <code>~{digits}</code>, else -1.
     */
    static int markerStart(ByteBuf buf, int from, int to) {
        if (to - from < 3 || buf.getByte(to - 1) != '}') {
            return -1;
        }
        int i = to - 2;
        if (buf.getByte(i) == '+') {
            i--;
        }
        int digitsEnd = i;
        while (i >= from && isDigit(buf.getByte(i))) {
            i--;
        }
        if (i == digitsEnd || i < from || buf.getByte(i) != '{') {
            return -1;
        }
        if (i > from && buf.getByte(i - 1) == '~') {
            return i - 1;
        }
        return i;
    }

    /** Parses the marker found by {@link #markerStart}; a number with too many digits reads as Long.MAX_VALUE, above every limit. */
    static LiteralSpec parse(ByteBuf buf, int start, int to) {
        boolean binary = buf.getByte(start) == '~';
        int i = binary ? start + 2 : start + 1;
        boolean sync = buf.getByte(to - 2) != '+';
        int digitsEnd = sync ? to - 1 : to - 2;
        if (digitsEnd - i > MAX_DIGITS) {
            return new LiteralSpec(Long.MAX_VALUE, sync, binary);
        }
        long n = 0;
        for (; i < digitsEnd; i++) {
            n = n * 10 + (buf.getByte(i) - '0');
        }
        return new LiteralSpec(n, sync, binary);
    }

    static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }
}
