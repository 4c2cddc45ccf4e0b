package org.mailproxy.imap.protocol;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Decides which of the provider's capabilities a client may see (SECURITY.md 20): only what the proxy can relay.
 * <ul>
 *   <li>Removed because they change framing the proxy does not implement: {@code COMPRESS=*} (RFC 4978),
 *       {@code BINARY} (RFC 3516, {@code ~{n}} literals), {@code UTF8=*} (RFC 6855), {@code IMAP4rev2}
 *       (RFC 9051 includes BINARY and changes untagged responses the later FETCH rewriter relies on).</li>
 *   <li>Removed because the proxy handles them itself: {@code STARTTLS}, {@code LOGINDISABLED}, {@code AUTH=*},
 *       {@code SASL-IR}, {@code LITERAL+} and {@code LITERAL-} (the proxy announces its own literal support and
 *       converts literals for a provider without it, RFC 7888).</li>
 *   <li>Removed because the provider would answer them from the ciphertext of encrypted mail (see
 *       {@link #answeredFromCiphertext}): SORT, THREAD, ESORT, CONTEXT, SEARCH=FUZZY, PREVIEW, NOTIFY,
 *       MULTIAPPEND, CATENATE, URLAUTH, CONVERT, MULTISEARCH, Gmail's X-GM-EXT-1.</li>
 * </ul>
 * Everything else passes: IDLE, UIDPLUS, MOVE, CONDSTORE, QRESYNC, SPECIAL-USE, ENABLE, ID, NAMESPACE and
 * extensions the proxy does not know (capabilities are an open set).
 */
public final class CapabilityFilter {

    /** What the proxy adds after login: non-synchronizing literals up to max-non-sync-literal (RFC 7888 5). */
    public static final List<String> PROXY_AUTHENTICATED = List.of("LITERAL-");

    private CapabilityFilter() {
    }

    public static boolean allowed(String capability) {
        String c = capability.toUpperCase(Locale.ROOT);
        return !(c.startsWith("COMPRESS=") || c.equals("COMPRESS")
                || c.equals("BINARY")
                || c.startsWith("UTF8=")
                || c.equals("IMAP4REV2")
                || c.equals("STARTTLS")
                || c.equals("LOGINDISABLED")
                || c.startsWith("AUTH=")
                || c.equals("SASL-IR")
                || c.equals("LITERAL+")
                || c.equals("LITERAL-")
                || answeredFromCiphertext(c));
    }

    /**
     * Extensions whose answers the provider computes from the stored message, which for encrypted mail is the
     * ciphertext, and which the decrypted view does not answer itself: sorting and threading by Subject or From,
     * fuzzy search, previews, searches and notifications that bypass SEARCH's criteria, and APPEND forms that
     * would keep a draft from being encrypted (several messages or server-side parts in one APPEND).
     */
    private static boolean answeredFromCiphertext(String c) {
        return c.equals("SORT") || c.startsWith("SORT=") || c.startsWith("THREAD=") || c.equals("ESORT")
                || c.startsWith("CONTEXT=") || c.equals("SEARCH=FUZZY") || c.equals("PREVIEW")
                || c.startsWith("SNIPPET=") || c.equals("X-GM-EXT-1") || c.equals("NOTIFY")
                || c.equals("MULTIAPPEND") || c.equals("CATENATE") || c.equals("URLAUTH") || c.startsWith("URLAUTH=")
                || c.equals("CONVERT") || c.equals("MULTISEARCH");
    }

    /** The provider's post-login capabilities as the client sees them: filtered, plus the proxy's own, no duplicates. */
    public static List<String> forClient(List<String> upstream) {
        Set<String> out = new LinkedHashSet<>();
        boolean rev1 = false;
        for (String c : upstream) {
            if (allowed(c)) {
                out.add(c);
                rev1 |= c.equalsIgnoreCase("IMAP4rev1");
            }
        }
        List<String> result = new ArrayList<>();
        if (!rev1) {
            // A provider that announces only IMAP4rev2 still speaks rev1 (RFC 9051 appendix E); the client needs one.
            result.add("IMAP4rev1");
        }
        result.addAll(out);
        for (String own : PROXY_AUTHENTICATED) {
            if (!result.contains(own)) {
                result.add(own);
            }
        }
        return List.copyOf(result);
    }

    /** Splits a capability text ({@code IMAP4rev1 IDLE ...}) on spaces. */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        for (String s : text.trim().split(" +")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
