package org.mailproxy.imap.append;

import org.mailproxy.config.ImapSettings;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which mailboxes of one session get their APPENDs encrypted ({@code mailproxy.imap.encrypt-appends}): those the
 * server marks with a configured SPECIAL-USE attribute (RFC 6154 §2), learned from the untagged LIST, LSUB and
 * XLIST responses the session sees, and those the configuration names.
 *
 * <p>Names are compared as the server and client write them on the wire (modified UTF-7, RFC 9051 §5.1.3, or UTF-8
 * after {@code ENABLE UTF8=ACCEPT}, RFC 6855 §3), after quoting is undone; only {@code INBOX} is compared without case
 * (RFC 9051 §5.1). A configured name with non-ASCII characters matches its modified UTF-7 form too, so a user can
 * write {@code "Entwürfe"} for the server's {@code Entw&APw-rfe}.
 *
 * <p>A client may APPEND before it listed anything in this session (a new connection saving a draft). While
 * {@link #needsDiscovery()} is true the session sends {@link #discoveryCommand} upstream first with a tag of its
 * own, feeds the untagged LIST responses to {@link #observeList} (they are the proxy's, not the client's), and then
 * calls {@link #discovered()} whatever the tagged answer was.
 *
 * <p>Per session, used on its event loop: not thread-safe.
 */
public final class AppendFolders {

    /** XLIST (Gmail's pre-RFC 6154 command) names some attributes differently. */
    private static final Map<String, String> XLIST_NAMES = Map.of(
            "\\allmail", "\\all", "\\spam", "\\junk", "\\starred", "\\flagged");
    private static final Set<String> SPECIAL_USE = Set.of("\\all", "\\archive", "\\drafts", "\\flagged", "\\junk",
            "\\sent", "\\trash", "\\important");
    /** RFC 5258 §3: a name listed only because of its children, or the answer about a mailbox that is gone. */
    private static final String NON_EXISTENT = "\\nonexistent";

    private final Set<String> wantedUses;
    private final Set<String> configuredNames = new HashSet<>();
    /** Mailbox name (INBOX canonical) to its SPECIAL-USE attributes, lower-cased. */
    private final Map<String, Set<String>> uses = new HashMap<>();
    private boolean discovered;

    public AppendFolders(ImapSettings.EncryptAppends settings) {
        this.wantedUses = settings.specialUseLowerCase();
        for (String f : settings.folders()) {
            configuredNames.add(key(f));
            configuredNames.add(key(ModifiedUtf7.encode(f)));
        }
        // nothing to learn when no attribute is configured
        this.discovered = wantedUses.isEmpty();
    }

    /**
     * One untagged {@code LIST}, {@code LSUB} or {@code XLIST} response: its name attributes (as the server wrote
     * them, e.g. {@code \HasNoChildren}, {@code \Drafts}) and the mailbox name (quotes and literal framing removed).
     * A response without any SPECIAL-USE attribute leaves what is known about the mailbox unchanged: a LIST
     * without {@code RETURN (SPECIAL-USE)} need not show them (RFC 6154 §2); one with {@code \NonExistent}
     * forgets it.
     */
    public void observeList(List<String> attributes, String mailboxName) {
        Set<String> found = new HashSet<>();
        boolean gone = false;
        for (String a : attributes) {
            String l = a.toLowerCase(Locale.ROOT);
            l = XLIST_NAMES.getOrDefault(l, l);
            if (SPECIAL_USE.contains(l)) {
                found.add(l);
            } else if (l.equals(NON_EXISTENT)) {
                gone = true;
            }
        }
        String k = key(mailboxName);
        if (gone) {
            uses.remove(k);
        } else if (!found.isEmpty()) {
            uses.put(k, Set.copyOf(found));
        }
    }

    /** A successful DELETE: the mailbox no longer has a role (a new one of the same name has to be listed again). */
    public void forget(String mailboxName) {
        uses.remove(key(mailboxName));
    }

    /** A successful RENAME: the attributes move with the mailbox (RFC 6154 §5.2 leaves them on it). */
    public void renamed(String from, String to) {
        Set<String> u = uses.remove(key(from));
        if (u != null) {
            uses.put(key(to), u);
        }
    }

    /** Whether an APPEND to {@code mailboxName} is to be encrypted. */
    public boolean encrypts(String mailboxName) {
        String k = key(mailboxName);
        if (configuredNames.contains(k)) {
            return true;
        }
        Set<String> u = uses.get(k);
        if (u == null) {
            return false;
        }
        for (String a : u) {
            if (wantedUses.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /** The SPECIAL-USE attributes learned for a mailbox, lower-cased (for logs and tests). */
    public Set<String> specialUse(String mailboxName) {
        return uses.getOrDefault(key(mailboxName), Set.of());
    }

    /**
     * Whether the session should learn the server's SPECIAL-USE mailboxes (with {@link #discoveryCommand}) before it
     * decides about an APPEND: true until {@link #discovered()}, unless no attribute is configured.
     */
    public boolean needsDiscovery() {
        return !discovered;
    }

    /** The session's own discovery command has completed (OK, NO or BAD alike: it is not sent twice). */
    public void discovered() {
        discovered = true;
    }

    /**
     * The command (without tag and CRLF) that lists the server's special-use mailboxes, chosen by its capabilities:
     * <ul>
     * <li>{@code SPECIAL-USE} and {@code LIST-EXTENDED}: {@code LIST (SPECIAL-USE) "" "*"}, the selection option
     *     that returns only mailboxes with an attribute (RFC 6154 §3, RFC 5258 §3.1), a short answer even on a
     *     server with thousands of folders;</li>
     * <li>{@code SPECIAL-USE} alone: {@code LIST "" "*"}, where such a server shows the attributes
     *     (RFC 6154 §2);</li>
     * <li>{@code XLIST} (Gmail before RFC 6154): {@code XLIST "" "*"};</li>
     * <li>otherwise empty: the server has no attributes to tell, and only configured names count.</li>
     * </ul>
     *
     * @param capabilities the upstream's capability atoms (any case)
     */
    public static Optional<String> discoveryCommand(Collection<String> capabilities) {
        Set<String> caps = new HashSet<>();
        capabilities.forEach(c -> caps.add(c.toUpperCase(Locale.ROOT)));
        if (caps.contains("SPECIAL-USE") && caps.contains("LIST-EXTENDED")) {
            return Optional.of("LIST (SPECIAL-USE) \"\" \"*\"");
        }
        if (caps.contains("SPECIAL-USE")) {
            return Optional.of("LIST \"\" \"*\"");
        }
        if (caps.contains("XLIST")) {
            return Optional.of("XLIST \"\" \"*\"");
        }
        return Optional.empty();
    }

    private static String key(String mailboxName) {
        return mailboxName.equalsIgnoreCase("INBOX") ? "INBOX" : mailboxName;
    }

    /** RFC 9051 §5.1.3 modified UTF-7, the encoding direction only (configured names to wire names). */
    static final class ModifiedUtf7 {
        private ModifiedUtf7() {
        }

        static String encode(String name) {
            StringBuilder out = new StringBuilder();
            int i = 0;
            while (i < name.length()) {
                char c = name.charAt(i);
                if (c == '&') {
                    out.append("&-");
                    i++;
                } else if (c >= 0x20 && c <= 0x7e) {
                    out.append(c);
                    i++;
                } else {
                    int start = i;
                    while (i < name.length() && (name.charAt(i) < 0x20 || name.charAt(i) > 0x7e)) {
                        i++;
                    }
                    byte[] utf16 = name.substring(start, i).getBytes(StandardCharsets.UTF_16BE);
                    out.append('&').append(Base64.getEncoder().withoutPadding().encodeToString(utf16)
                            .replace('/', ',')).append('-');
                }
            }
            return out.toString();
        }
    }
}
