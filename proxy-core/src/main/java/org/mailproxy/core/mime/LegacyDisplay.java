package org.mailproxy.core.mime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Removes the legacy display part of protected headers (Enigmail and older Thunderbird, protected-headers v1): the
 * first part of a {@code multipart/mixed} whose type is {@code text/rfc822-headers; protected-headers="v1"}, which
 * shows the hidden Subject to clients that cannot read protected headers. Once the proxy has promoted those headers
 * to the top, the part would only repeat them (STANDARDS.md: legacy display parts are removed). Streams: only the
 * lines up to the end of the first part are looked at; the rest is copied in bulk.
 */
final class LegacyDisplay {

    private static final int MAX_PART_HEADER = 64 * 1024;

    private LegacyDisplay() {
    }

    /**
     * Copies a {@code multipart/mixed} body with {@code boundary} to {@code out} without its first part when that
     * part is a legacy display part.
     */
    static void copyWithout(InputStream body, OutputStream out, String boundary) throws IOException {
        byte[] delimiter = ("--" + boundary).getBytes(StandardCharsets.US_ASCII);
        java.io.BufferedInputStream in = new java.io.BufferedInputStream(body, 16 * 1024);
        byte[] line;
        // the preamble, up to the first delimiter line
        while ((line = readLine(in, Integer.MAX_VALUE)) != null && !isDelimiter(line, delimiter)) {
            out.write(line);
        }
        if (line == null) {
            return;
        }
        byte[] firstDelimiter = line;
        ByteArrayOutputStream header = new ByteArrayOutputStream();
        while ((line = readLine(in, MAX_PART_HEADER)) != null) {
            header.write(line);
            if (header.size() > MAX_PART_HEADER) {
                break;
            }
            if (line.length <= 2 && (line.length == 0 || line[0] == '\r' || line[0] == '\n')) {
                break;
            }
        }
        if (!isLegacyDisplay(header.toByteArray())) {
            out.write(firstDelimiter);
            header.writeTo(out);
            in.transferTo(out);
            return;
        }
        // skip the part: everything up to the next delimiter line, which is kept
        while ((line = readLine(in, Integer.MAX_VALUE)) != null && !isDelimiter(line, delimiter)) {
            // dropped
        }
        if (line != null) {
            out.write(line);
            in.transferTo(out);
        }
    }

    private static boolean isLegacyDisplay(byte[] header) throws IOException {
        List<HeaderField> fields = Headers.read(new java.io.ByteArrayInputStream(header), MAX_PART_HEADER + 2, 100);
        Optional<HeaderField> type = Headers.first(fields, "Content-Type");
        return "text/rfc822-headers".equals(Headers.mediaType(type))
                && Headers.parameter(type, "protected-headers").isPresent();
    }

    private static boolean isDelimiter(byte[] line, byte[] delimiter) {
        if (line.length < delimiter.length) {
            return false;
        }
        for (int i = 0; i < delimiter.length; i++) {
            if (line[i] != delimiter[i]) {
                return false;
            }
        }
        return true;
    }

    /** The next line with its line end; a line longer than {@code max} is returned in pieces. Null at the end. */
    private static byte[] readLine(java.io.BufferedInputStream in, int max) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n' || b.size() >= Math.min(max, 1 << 20)) {
                break;
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    /**
     * RFC 9788's legacy display element: a text/plain body marked {@code hp-legacy-display="1"} starts with the
     * protected header fields as text, up to a blank line, for clients that cannot read protected headers. Copies
     * the body without those lines (only for a body sent as it is, not quoted-printable or base64).
     */
    static void copyWithoutElement(InputStream body, OutputStream out) throws IOException {
        java.io.BufferedInputStream in = new java.io.BufferedInputStream(body, 16 * 1024);
        in.mark(MAX_PART_HEADER + 2);
        byte[] line;
        int read = 0;
        while ((line = readLine(in, MAX_PART_HEADER)) != null) {
            read += line.length;
            if (read > MAX_PART_HEADER) {
                break;
            }
            if (line.length == 1 && line[0] == '\n' || line.length == 2 && line[0] == '\r' && line[1] == '\n') {
                in.transferTo(out); // the element ended at this blank line
                return;
            }
        }
        in.reset(); // no element that ends: the body as it came
        in.transferTo(out);
    }

    /** Whether {@code type} is a text/plain body with RFC 9788's legacy display element (identity encoding only). */
    static boolean hasElement(Optional<HeaderField> type, Optional<HeaderField> encoding) {
        String cte = encoding.map(f -> f.unfolded().trim().toLowerCase(Locale.ROOT)).orElse("7bit");
        return "text/plain".equals(Headers.mediaType(type))
                && Headers.parameter(type, "hp-legacy-display").map(v -> v.trim().equals("1")).orElse(false)
                && (cte.equals("7bit") || cte.equals("8bit") || cte.equals("binary"));
    }

    /** Whether {@code type} is a multipart/mixed whose first part may be a legacy display part. */
    static Optional<String> mixedBoundary(Optional<HeaderField> type) {
        if (!"multipart/mixed".equals(Headers.mediaType(type).toLowerCase(Locale.ROOT))) {
            return Optional.empty();
        }
        return Headers.parameter(type, "boundary");
    }
}
