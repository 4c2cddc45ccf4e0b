package org.mailproxy.core.crypto.openpgp;

import java.io.IOException;
import java.io.InputStream;
import java.util.Base64;

/**
 * Reads ASCII armor (RFC 9580 §6.2) and returns the binary it carries, a block of lines at a time. Bouncy Castle's
 * {@code ArmoredInputStream} decodes one octet per call, which took 40% of the CPU of making decrypted views of
 * armored PGP/MIME mail; the JDK's base64 decoder does a block per call.
 *
 * <p>What it accepts: blank lines, then {@code -----BEGIN PGP ...-----}, armor header lines ({@code Key: value})
 * up to a blank line (a missing blank line before the base64 is tolerated, as other implementations do), base64
 * lines, an optional checksum line ({@code =XXXX}, not checked: integrity comes from the MDC or AEAD, RFC 9580
 * §6.1), and {@code -----END PGP ...-----}. Anything else, a line longer than {@code maxLineLength}, or input ending
 * before the END line, is an {@link IOException}.
 */
final class ArmorInputStream extends InputStream {

    private enum State { BEFORE, HEADERS, BODY, DONE }

    /** Base64 characters decoded per block (a multiple of 4). */
    private static final int BLOCK = 64 * 1024;

    private final InputStream in;
    private final int maxLineLength;
    private final byte[] line;
    private int lineLength;
    private State state = State.BEFORE;

    private final byte[] buf = new byte[16 * 1024];
    private int bufPos;
    private int bufLength;
    private final byte[] pending;
    private int pendingLength;
    private byte[] decoded = new byte[0];
    private int decodedPos;

    ArmorInputStream(InputStream in, int maxLineLength) {
        this.in = in;
        this.maxLineLength = maxLineLength;
        this.line = new byte[maxLineLength + 2];
        this.pending = new byte[BLOCK + line.length];
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (decodedPos == decoded.length) {
            if (!fill()) {
                return -1;
            }
        }
        int n = Math.min(len, decoded.length - decodedPos);
        System.arraycopy(decoded, decodedPos, b, off, n);
        decodedPos += n;
        return n;
    }

    /** Decodes the next block; false at the end of the armor. */
    private boolean fill() throws IOException {
        while (state != State.DONE && pendingLength < BLOCK) {
            if (!readLine()) {
                throw new IOException("armor ends without its END line");
            }
            line();
        }
        int whole = state == State.DONE ? pendingLength : pendingLength - pendingLength % 4;
        if (whole == 0) {
            if (state == State.DONE && pendingLength == 0) {
                return false;
            }
            return true;
        }
        try {
            byte[] src = new byte[whole];
            System.arraycopy(pending, 0, src, 0, whole);
            decoded = Base64.getDecoder().decode(src);
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed base64 in armor", e);
        }
        decodedPos = 0;
        System.arraycopy(pending, whole, pending, 0, pendingLength - whole);
        pendingLength -= whole;
        return true;
    }

    private void line() throws IOException {
        switch (state) {
            case BEFORE -> {
                if (lineLength == 0) {
                    return;
                }
                if (!startsWith("-----BEGIN PGP ") || !endsWith("-----")) {
                    throw new IOException("no armor header line");
                }
                state = State.HEADERS;
            }
            case HEADERS -> {
                if (lineLength == 0) {
                    state = State.BODY;
                } else if (indexOf(':') < 0) {
                    state = State.BODY; // no blank line after the headers
                    body();
                }
            }
            case BODY -> body();
            case DONE -> {
            }
        }
    }

    private void body() throws IOException {
        if (lineLength == 0) {
            return;
        }
        if (line[0] == '=' && lineLength == 5) {
            return; // the CRC24 checksum
        }
        if (startsWith("-----END PGP ")) {
            state = State.DONE;
            return;
        }
        for (int i = 0; i < lineLength; i++) {
            byte c = line[i];
            boolean base64 = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+'
                    || c == '/' || c == '=';
            if (!base64) {
                throw new IOException("not base64 in the armor body");
            }
        }
        System.arraycopy(line, 0, pending, pendingLength, lineLength);
        pendingLength += lineLength;
    }

    /** The next line without its end and trailing white space; false at the end of input. */
    private boolean readLine() throws IOException {
        lineLength = 0;
        boolean any = false;
        while (true) {
            if (bufPos == bufLength) {
                bufLength = in.read(buf, 0, buf.length);
                bufPos = 0;
                if (bufLength <= 0) {
                    bufLength = 0;
                    break;
                }
            }
            any = true;
            int end = bufPos;
            while (end < bufLength && buf[end] != '\n') {
                end++;
            }
            int n = end - bufPos;
            if (lineLength + n > line.length) {
                throw new IOException("armor line longer than " + maxLineLength + " octets");
            }
            System.arraycopy(buf, bufPos, line, lineLength, n);
            lineLength += n;
            if (end < bufLength) {
                bufPos = end + 1;
                break;
            }
            bufPos = bufLength;
        }
        while (lineLength > 0 && (line[lineLength - 1] == '\r' || line[lineLength - 1] == ' '
                || line[lineLength - 1] == '\t')) {
            lineLength--;
        }
        return any;
    }

    private boolean startsWith(String prefix) {
        if (lineLength < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean endsWith(String suffix) {
        if (lineLength < suffix.length()) {
            return false;
        }
        for (int i = 0; i < suffix.length(); i++) {
            if (line[lineLength - suffix.length() + i] != suffix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private int indexOf(char c) {
        for (int i = 0; i < lineLength; i++) {
            if (line[i] == c) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
