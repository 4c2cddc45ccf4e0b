package org.mailproxy.smtp.codec;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An SMTP reply: a three-digit code and one or more text lines (RFC 5321 4.2). The text of each line starts with the
 * enhanced status code when there is one (RFC 3463, RFC 2034); it is kept inside the text, so a relayed upstream
 * reply reaches the client exactly as the upstream worded it. {@link SmtpReplyEncoder} is the one place that writes
 * replies to the wire; no line may contain CR or LF.
 */
public final class SmtpReply {

    private static final Pattern ENHANCED = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?: |$)");

    private final int code;
    private final List<String> lines;

    public SmtpReply(int code, List<String> lines) {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("reply code out of range: " + code);
        }
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("a reply has at least one line");
        }
        for (String l : lines) {
            if (l.indexOf('\r') >= 0 || l.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("CR or LF inside a reply line");
            }
        }
        this.code = code;
        this.lines = List.copyOf(lines);
    }

    /** A one-line reply with an enhanced status code: {@code 250 2.1.0 Ok}. */
    public static SmtpReply of(int code, String enhanced, String text) {
        return new SmtpReply(code, List.of(enhanced + " " + text));
    }

    public int code() {
        return code;
    }

    public List<String> lines() {
        return lines;
    }

    public boolean isPositive() {
        return code < 400;
    }

    public boolean isPositiveCompletion() {
        return code >= 200 && code < 300;
    }

    public boolean isIntermediate() {
        return code >= 300 && code < 400;
    }

    public boolean isTransientFailure() {
        return code >= 400 && code < 500;
    }

    /** The enhanced status code of the first line, when it has one. */
    public Optional<String> enhancedCode() {
        Matcher m = ENHANCED.matcher(lines.get(0));
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Code and text on one line, for logs. Never used for AUTH exchanges (challenges could carry secrets). */
    public String summary() {
        return code + " " + String.join(" / ", lines);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SmtpReply r && r.code == code && r.lines.equals(lines);
    }

    @Override
    public int hashCode() {
        return code * 31 + lines.hashCode();
    }

    @Override
    public String toString() {
        return "SmtpReply[" + code + "]";
    }
}
