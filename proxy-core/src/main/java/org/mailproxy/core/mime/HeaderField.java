package org.mailproxy.core.mime;

import java.util.Locale;

/**
 * One header field as it appears on the wire: {@code name} without the colon and {@code value} as the raw text after
 * the colon, folding kept, without the final CRLF. Keeping the raw form means a field we pass along is written back
 * byte for byte.
 */
public record HeaderField(String name, String value) {
    public HeaderField {
        if (name.isEmpty() || name.chars().anyMatch(c -> c <= 32 || c >= 127 || c == ':')) {
            throw new IllegalArgumentException("invalid header field name");
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("NUL in header field");
        }
    }

    /** A generated field: one space after the colon. CR and LF are refused (SECURITY.md 13). */
    public static HeaderField of(String name, String value) {
        if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("CR or LF in a generated header field");
        }
        return new HeaderField(name, " " + value);
    }

    public boolean is(String other) {
        return name.equalsIgnoreCase(other);
    }

    public String lowerName() {
        return name.toLowerCase(Locale.ROOT);
    }

    /** The value unfolded (RFC 5322 §2.2.3) and trimmed. */
    public String unfolded() {
        return value.replace("\r\n", "").replace("\n", "").trim();
    }

    /** The field with a CRLF line end, as written in a message. */
    public String toWire() {
        String v = value.replaceAll("\r?\n", "\r\n");
        return name + ":" + v + "\r\n";
    }
}
