package org.mailproxy.smtp.codec;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An SMTP verb. An open set (a class with constants plus {@link #valueOf}, not an enum): verbs the proxy does not
 * know still parse and can be relayed, as RFC 5321 2.2.1 lets servers add extension verbs.
 */
public final class SmtpCommand {

    private static final Map<String, SmtpCommand> KNOWN = new ConcurrentHashMap<>();

    public static final SmtpCommand EHLO = known("EHLO");
    public static final SmtpCommand HELO = known("HELO");
    public static final SmtpCommand MAIL = known("MAIL");
    public static final SmtpCommand RCPT = known("RCPT");
    public static final SmtpCommand DATA = known("DATA");
    public static final SmtpCommand RSET = known("RSET");
    public static final SmtpCommand NOOP = known("NOOP");
    public static final SmtpCommand QUIT = known("QUIT");
    public static final SmtpCommand VRFY = known("VRFY");
    public static final SmtpCommand EXPN = known("EXPN");
    public static final SmtpCommand HELP = known("HELP");
    public static final SmtpCommand AUTH = known("AUTH");
    public static final SmtpCommand STARTTLS = known("STARTTLS");
    /** CHUNKING (RFC 3030): changes framing, so the proxy refuses it. */
    public static final SmtpCommand BDAT = known("BDAT");

    private final String name;

    private SmtpCommand(String name) {
        this.name = name;
    }

    private static SmtpCommand known(String name) {
        SmtpCommand c = new SmtpCommand(name);
        KNOWN.put(name, c);
        return c;
    }

    /** The command for a verb, case-insensitively (RFC 5321 2.4); unknown verbs get a fresh instance. */
    public static SmtpCommand valueOf(CharSequence verb) {
        String upper = verb.toString().toUpperCase(Locale.ROOT);
        SmtpCommand c = KNOWN.get(upper);
        return c != null ? c : new SmtpCommand(upper);
    }

    public String name() {
        return name;
    }

    public boolean isKnown() {
        return KNOWN.get(name) == this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SmtpCommand other && other.name.equals(name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
