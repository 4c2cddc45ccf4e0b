package org.mailproxy.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The local IMAP listener, its limits (SECURITY.md 17-18), timeouts and which APPENDs are encrypted; defaults in
 * reference.conf.
 */
public record ImapSettings(ListenAddress listen, Limits limits, Duration upstreamConnectTimeout, Duration clientIdleTimeout,
                           Duration upstreamReplyTimeout, EncryptAppends encryptAppends) {

    public ImapSettings {
        Objects.requireNonNull(encryptAppends, "encryptAppends");
    }

    /** Without an {@code encrypt-appends} setting: {@link EncryptAppends#DEFAULT}. */
    public ImapSettings(ListenAddress listen, Limits limits, Duration upstreamConnectTimeout, Duration clientIdleTimeout,
                        Duration upstreamReplyTimeout) {
        this(listen, limits, upstreamConnectTimeout, clientIdleTimeout, upstreamReplyTimeout, EncryptAppends.DEFAULT);
    }

    public record Limits(int maxCommandLine, long maxLiteral, int maxNonSyncLiteral, int maxResponseLine, int maxParenDepth) {
        public Limits {
            if (maxCommandLine < 1024) throw new IllegalArgumentException("max-command-line must be at least 1024");
            if (maxNonSyncLiteral < 0 || maxNonSyncLiteral > maxLiteral) throw new IllegalArgumentException("max-non-sync-literal must be between 0 and max-literal");
            if (maxResponseLine < 1024) throw new IllegalArgumentException("max-response-line must be at least 1024");
            if (maxParenDepth < 8) throw new IllegalArgumentException("max-paren-depth must be at least 8");
        }
    }

    /**
     * The mailboxes whose APPENDs are encrypted to the account's own key before they go upstream: those the server
     * marks with one of {@code specialUse} (RFC 6154 §2), and those named in {@code folders}.
     *
     * @param specialUse SPECIAL-USE attributes, written as RFC 6154 spells them ({@code \Drafts}); compared without
     *                   case (attributes are atoms, RFC 9051 §9 "flag-extension")
     * @param folders    mailbox names as the server lists them; {@code INBOX} in any case means the inbox
     *                   (RFC 9051 §5.1); a name with non-ASCII characters also matches its modified UTF-7 form
     */
    public record EncryptAppends(List<String> specialUse, List<String> folders) {
        /** RFC 6154 §2 and RFC 8457 §3 (\Important): the attributes a server may put on a mailbox. */
        public static final List<String> KNOWN_SPECIAL_USE = List.of("\\All", "\\Archive", "\\Drafts", "\\Flagged",
                "\\Junk", "\\Sent", "\\Trash", "\\Important");

        /** Drafts and sent mail: what a client writes itself, so what the provider would otherwise hold in clear. */
        public static final EncryptAppends DEFAULT = new EncryptAppends(List.of("\\Drafts", "\\Sent"), List.of());

        public EncryptAppends {
            Set<String> uses = new LinkedHashSet<>();
            for (String s : specialUse) {
                uses.add(canonicalSpecialUse(s));
            }
            specialUse = List.copyOf(uses);
            List<String> names = new ArrayList<>();
            for (String f : folders) {
                names.add(checkFolder(f));
            }
            folders = List.copyOf(names);
        }

        /** Nothing is encrypted on APPEND. */
        public boolean off() {
            return specialUse.isEmpty() && folders.isEmpty();
        }

        private static String canonicalSpecialUse(String s) {
            String t = s.trim();
            for (String k : KNOWN_SPECIAL_USE) {
                if (k.equalsIgnoreCase(t)) {
                    return k;
                }
            }
            String hint = t.startsWith("\\") ? "" : " (attributes start with a backslash, written \"\\\\Drafts\" in HOCON)";
            throw new IllegalArgumentException("\"" + s + "\" is not a SPECIAL-USE attribute (RFC 6154: "
                    + String.join(" ", KNOWN_SPECIAL_USE) + ")" + hint);
        }

        private static String checkFolder(String f) {
            if (f.isEmpty()) {
                throw new IllegalArgumentException("an empty mailbox name");
            }
            for (int i = 0; i < f.length(); i++) {
                char c = f.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    throw new IllegalArgumentException("mailbox name \"" + f.replaceAll("\\p{Cntrl}", "?")
                            + "\" holds a control character");
                }
            }
            if (f.indexOf('*') >= 0 || f.indexOf('%') >= 0) {
                throw new IllegalArgumentException("mailbox name \"" + f + "\" holds a LIST wildcard (* or %); "
                        + "name each mailbox itself");
            }
            return f.equalsIgnoreCase("INBOX") ? "INBOX" : f;
        }

        /** The attributes lower-cased, for comparisons. */
        public Set<String> specialUseLowerCase() {
            Set<String> out = new LinkedHashSet<>();
            specialUse.forEach(s -> out.add(s.toLowerCase(Locale.ROOT)));
            return out;
        }
    }
}
