package org.mailproxy.smtp.upstream;

import org.mailproxy.smtp.codec.SmtpReply;

import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * What the upstream announced in its EHLO reply (RFC 5321 4.1.1.1): one keyword per line after the first, with
 * parameters. Read again after TLS; what was said before it is forgotten (SECURITY.md 10).
 */
public record Capabilities(List<String> lines) {

    public Capabilities {
        lines = List.copyOf(lines);
    }

    public static Capabilities fromEhlo(SmtpReply reply) {
        List<String> all = reply.lines();
        return new Capabilities(all.subList(1, all.size()));
    }

    public boolean has(String keyword) {
        return param(keyword) != null;
    }

    /** Whether the AUTH line (RFC 4954 3) offers {@code mechanism}. */
    public boolean offersAuth(String mechanism) {
        String p = param("AUTH");
        if (p == null) {
            return false;
        }
        for (String m : p.trim().split(" +")) {
            if (m.equalsIgnoreCase(mechanism)) {
                return true;
            }
        }
        return false;
    }

    /** SIZE's value (RFC 1870 4); empty when not announced or announced without a limit (0). */
    public OptionalLong maxSize() {
        String p = param("SIZE");
        if (p == null || p.isBlank()) {
            return OptionalLong.empty();
        }
        try {
            long v = Long.parseLong(p.trim());
            return v > 0 ? OptionalLong.of(v) : OptionalLong.empty();
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private String param(String keyword) {
        String k = keyword.toUpperCase(Locale.ROOT);
        for (String line : lines) {
            String upper = line.toUpperCase(Locale.ROOT);
            if (upper.equals(k)) {
                return "";
            }
            if (upper.startsWith(k + " ") || upper.startsWith(k + "=")) {
                return line.substring(k.length() + 1);
            }
        }
        return null;
    }
}
