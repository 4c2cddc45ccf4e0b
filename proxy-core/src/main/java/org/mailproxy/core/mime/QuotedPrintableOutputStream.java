package org.mailproxy.core.mime;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Quoted-printable encoding (RFC 2045 §6.7) of CRLF text as it streams: printable ASCII stays, everything else and
 * "=" become {@code =XX}, whitespace before a line end is encoded, lines are broken softly before 76 characters, and
 * an F that starts a line is encoded, so no line starts with "From " (mbox-safe). A signed part must be 7-bit (RFC 3156 §3): a relay
 * that converted 8-bit content on the way would otherwise break the signature. Closing does not close the stream
 * below.
 */
final class QuotedPrintableOutputStream extends FilterOutputStream {
    private static final int MAX_LINE = 76;
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private int column;
    /** A space or tab not yet written: encoded if the line ends right after it. */
    private int heldWhitespace = -1;
    private boolean pendingCr;

    QuotedPrintableOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        b &= 0xff;
        if (pendingCr) {
            pendingCr = false;
            if (b == '\n') {
                endLine();
                return;
            }
            literalOrEncoded('\r', true);
        }
        if (b == '\r') {
            pendingCr = true;
            return;
        }
        if (heldWhitespace >= 0) {
            int w = heldWhitespace;
            heldWhitespace = -1;
            emit(w, false);
        }
        if (b == ' ' || b == '\t') {
            heldWhitespace = b;
            return;
        }
        literalOrEncoded(b, false);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    private void literalOrEncoded(int b, boolean forceEncode) throws IOException {
        boolean encode = forceEncode || b < 33 || b > 126 || b == '=' || column == 0 && b == 'F';
        emit(b, encode);
    }

    private void emit(int b, boolean encode) throws IOException {
        int width = encode ? 3 : 1;
        if (column + width > MAX_LINE - 1) {
            out.write('=');
            out.write('\r');
            out.write('\n');
            column = 0;
        }
        if (encode) {
            out.write('=');
            out.write(HEX[b >> 4]);
            out.write(HEX[b & 0xf]);
        } else {
            out.write(b);
        }
        column += width;
    }

    private void endLine() throws IOException {
        if (heldWhitespace >= 0) {
            int w = heldWhitespace;
            heldWhitespace = -1;
            emit(w, true);
        }
        out.write('\r');
        out.write('\n');
        column = 0;
    }

    /** Writes what is held (trailing whitespace, a last CR) without closing the stream below. */
    @Override
    public void close() throws IOException {
        if (pendingCr) {
            pendingCr = false;
            literalOrEncoded('\r', true);
        }
        if (heldWhitespace >= 0) {
            int w = heldWhitespace;
            heldWhitespace = -1;
            emit(w, true);
        }
        out.flush();
    }
}
