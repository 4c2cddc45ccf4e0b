package org.mailproxy.imap.view;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

/**
 * The header sections IMAP hands out (RFC 9051 §6.4.5), cut from a message's octets exactly as a server does, so the
 * view can answer {@code BODY[HEADER]}, {@code BODY[HEADER.FIELDS (...)]} and {@code .NOT} for a decrypted message:
 * the header is everything up to and including the blank line; a field subset keeps each matching field whole
 * (folded lines included, names compared without case) and the blank line, which every header fetch includes unless
 * the message has none.
 */
public final class HeaderSections {

    private HeaderSections() {
    }

    /** The header of {@code message}: its octets up to and including the blank line (all of it when there is none). */
    public static byte[] header(InputStream message, int maxBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int lineLength = 0;
        int previous = -1;
        int b;
        while ((b = message.read()) >= 0) {
            if (out.size() >= maxBytes) {
                throw new IOException("header section larger than " + maxBytes + " octets");
            }
            out.write(b);
            if (b == '\n') {
                if (lineLength == 0 || lineLength == 1 && previous == '\r') {
                    break; // the blank line
                }
                lineLength = 0;
            } else {
                lineLength++;
            }
            previous = b;
        }
        return out.toByteArray();
    }

    /**
     * {@code BODY[HEADER.FIELDS (names)]}, or with {@code not} {@code BODY[HEADER.FIELDS.NOT (names)]}, of a header
     * as {@link #header} returns it.
     */
    public static byte[] fields(byte[] header, Set<String> names, boolean not) {
        Set<String> wanted = lowerCase(names);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        boolean keep = false;
        while (i < header.length) {
            int end = lineEnd(header, i);
            boolean blank = end - i == 2 && header[i] == '\r' || end - i == 1;
            if (blank) {
                out.write(header, i, end - i);
                break;
            }
            boolean continuation = header[i] == ' ' || header[i] == '\t';
            if (!continuation) {
                keep = wanted.contains(name(header, i, end)) != not;
            }
            if (keep) {
                out.write(header, i, end - i);
            }
            i = end;
        }
        return out.toByteArray();
    }

    private static int lineEnd(byte[] a, int from) {
        for (int i = from; i < a.length; i++) {
            if (a[i] == '\n') {
                return i + 1;
            }
        }
        return a.length;
    }

    private static String name(byte[] a, int from, int to) {
        for (int i = from; i < to; i++) {
            if (a[i] == ':') {
                return new String(a, from, i - from, StandardCharsets.ISO_8859_1).trim().toLowerCase(Locale.ROOT);
            }
        }
        return "";
    }

    private static Set<String> lowerCase(Set<String> names) {
        java.util.HashSet<String> out = new java.util.HashSet<>();
        for (String n : names) {
            out.add(n.toLowerCase(Locale.ROOT));
        }
        return out;
    }
}
