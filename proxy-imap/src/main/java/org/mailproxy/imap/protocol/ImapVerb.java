package org.mailproxy.imap.protocol;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A command name. An open set (like Netty's {@code SmtpCommand}): the verbs the proxy acts on are constants, any
 * other atom is a verb too, so extension commands the proxy does not know still flow through to the provider.
 */
public final class ImapVerb {
    private static final Map<String, ImapVerb> KNOWN = new ConcurrentHashMap<>();

    public static final ImapVerb CAPABILITY = known("CAPABILITY");
    public static final ImapVerb NOOP = known("NOOP");
    public static final ImapVerb LOGOUT = known("LOGOUT");
    public static final ImapVerb STARTTLS = known("STARTTLS");
    public static final ImapVerb LOGIN = known("LOGIN");
    public static final ImapVerb AUTHENTICATE = known("AUTHENTICATE");
    public static final ImapVerb ID = known("ID");
    public static final ImapVerb ENABLE = known("ENABLE");
    public static final ImapVerb SELECT = known("SELECT");
    public static final ImapVerb EXAMINE = known("EXAMINE");
    public static final ImapVerb CLOSE = known("CLOSE");
    public static final ImapVerb UNSELECT = known("UNSELECT");
    public static final ImapVerb IDLE = known("IDLE");
    public static final ImapVerb APPEND = known("APPEND");
    public static final ImapVerb FETCH = known("FETCH");
    public static final ImapVerb UID = known("UID");
    public static final ImapVerb COMPRESS = known("COMPRESS");

    private final String name;

    private ImapVerb(String name) {
        this.name = name;
    }

    private static ImapVerb known(String name) {
        ImapVerb v = new ImapVerb(name);
        KNOWN.put(name, v);
        return v;
    }

    /** The verb for an atom, case-insensitively; known verbs are the same instance, unknown ones a new value. */
    public static ImapVerb valueOf(String atom) {
        String upper = atom.toUpperCase(Locale.ROOT);
        ImapVerb v = KNOWN.get(upper);
        return v != null ? v : new ImapVerb(upper);
    }

    public String name() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImapVerb other && other.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
