package org.mailproxy.core.mime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a header section from a stream, byte-exact and bounded (SECURITY.md 21): at most {@code maxBytes} bytes
 * and {@code maxFields} fields. The stream is left at the first body byte. Also small helpers for Content-Type
 * parameters and addresses.
 */
public final class Headers {
    private static final Pattern ADDRESS = Pattern.compile("<([^<>\\s]+@[^<>\\s]+)>");
    private static final Pattern BARE = Pattern.compile("([^<>\\s,;\"]+@[^<>\\s,;\"]+)");

    private Headers() {
    }

    public static List<HeaderField> read(InputStream in, int maxBytes, int maxFields) throws IOException {
        List<HeaderField> out = new ArrayList<>();
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int total = 0;
        while (true) {
            line.reset();
            int b;
            while ((b = in.read()) >= 0) {
                if (++total > maxBytes) {
                    throw new IOException("header section larger than " + maxBytes + " bytes");
                }
                line.write(b);
                if (b == '\n') {
                    break;
                }
            }
            byte[] l = line.toByteArray();
            boolean blank = l.length == 0 || (l.length == 1 && l[0] == '\n')
                    || (l.length == 2 && l[0] == '\r' && l[1] == '\n');
            if (!blank && (l[0] == ' ' || l[0] == '\t') && field.size() > 0) {
                field.write(l, 0, l.length);
                continue;
            }
            if (field.size() > 0) {
                out.add(parse(field.toByteArray()));
                if (out.size() > maxFields) {
                    throw new IOException("more than " + maxFields + " header fields");
                }
                field.reset();
            }
            if (blank || b < 0) {
                if (!blank && l.length > 0) {
                    out.add(parse(l));
                }
                return out;
            }
            field.write(l, 0, l.length);
        }
    }

    private static HeaderField parse(byte[] raw) throws IOException {
        String s = new String(raw, StandardCharsets.UTF_8);
        if (s.endsWith("\r\n")) {
            s = s.substring(0, s.length() - 2);
        } else if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        int colon = s.indexOf(':');
        if (colon <= 0) {
            throw new IOException("malformed header field");
        }
        try {
            return new HeaderField(s.substring(0, colon).trim(), s.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new IOException("malformed header field", e);
        }
    }

    public static Optional<HeaderField> first(List<HeaderField> fields, String name) {
        return fields.stream().filter(f -> f.is(name)).findFirst();
    }

    public static boolean isContentField(HeaderField f) {
        return f.lowerName().startsWith("content-") || f.is("MIME-Version");
    }

    /** The media type of a Content-Type value, lower-cased ("text/plain" when absent, RFC 2045 §5.2). */
    public static String mediaType(Optional<HeaderField> contentType) {
        if (contentType.isEmpty()) {
            return "text/plain";
        }
        String v = contentType.get().unfolded();
        int semi = v.indexOf(';');
        return (semi < 0 ? v : v.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    /** A Content-Type parameter, unquoted, or empty. */
    public static Optional<String> parameter(Optional<HeaderField> contentType, String name) {
        if (contentType.isEmpty()) {
            return Optional.empty();
        }
        Matcher m = Pattern.compile("(?i);\\s*" + Pattern.quote(name) + "\\s*=\\s*(\"([^\"]*)\"|([^;\\s]+))")
                .matcher(contentType.get().unfolded());
        if (!m.find()) {
            return Optional.empty();
        }
        return Optional.of(m.group(2) != null ? m.group(2) : m.group(3));
    }

    /** The first address of a From-like field, lower-cased. */
    public static Optional<String> address(Optional<HeaderField> field) {
        if (field.isEmpty()) {
            return Optional.empty();
        }
        String v = field.get().unfolded();
        Matcher m = ADDRESS.matcher(v);
        if (m.find()) {
            return Optional.of(m.group(1).toLowerCase(Locale.ROOT));
        }
        m = BARE.matcher(v);
        return m.find() ? Optional.of(m.group(1).toLowerCase(Locale.ROOT)) : Optional.empty();
    }
}
