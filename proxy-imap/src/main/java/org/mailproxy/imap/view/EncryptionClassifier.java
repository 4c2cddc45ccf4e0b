package org.mailproxy.imap.view;

import org.mailproxy.imap.codec.ImapValue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Which messages the decrypted view stands in for, told from what the provider says about them, so that only
 * those are fetched whole and decrypted while every other message passes byte for byte.
 *
 * <p>From a BODYSTRUCTURE (RFC 9051 §7.5.2): a root {@code multipart/encrypted} with
 * {@code protocol="application/pgp-encrypted"} and the two parts RFC 3156 §4 prescribes, the first
 * {@code application/pgp-encrypted}, is PGP/MIME. A root {@code text/plain} single part may be inline PGP (an armored
 * block that is the whole body); that needs the start of the body, {@link #isInlinePgp}. Anything else is plain:
 * an encrypted part deeper inside a message is not decrypted (EFAIL: SECURITY.md, partial encryption).
 */
public final class EncryptionClassifier {

    public enum Kind {
        PGP_MIME,
        /** A text/plain body; decided by its first octets. */
        INLINE_CANDIDATE,
        /**
         * A multipart that holds an encrypted part somewhere among others (EFAIL's shape, SECURITY.md 4): never
         * decrypted, but shown with the notice, so the view stands in for it too.
         */
        PARTLY_ENCRYPTED,
        PLAIN
    }

    private static final byte[] ARMOR = "-----BEGIN PGP MESSAGE-----".getBytes(StandardCharsets.US_ASCII);

    private EncryptionClassifier() {
    }

    public static Kind classify(ImapValue bodystructure) {
        if (!(bodystructure instanceof ImapValue.ListValue root) || root.items().isEmpty()) {
            return Kind.PLAIN;
        }
        List<ImapValue> items = root.items();
        if (items.get(0) instanceof ImapValue.ListValue) {
            if (isPgpMime(items)) {
                return Kind.PGP_MIME;
            }
            return holdsEncryptedPart(root, 0) ? Kind.PARTLY_ENCRYPTED : Kind.PLAIN;
        }
        if (items.size() >= 2 && "text".equals(lower(items.get(0))) && "plain".equals(lower(items.get(1)))) {
            return Kind.INLINE_CANDIDATE;
        }
        return Kind.PLAIN;
    }

    /** Whether a part below this multipart is multipart/encrypted or application/pgp-encrypted. */
    private static boolean holdsEncryptedPart(ImapValue.ListValue multipart, int depth) {
        for (ImapValue child : multipart.items()) {
            if (!(child instanceof ImapValue.ListValue part)) {
                return false; // the subtype: no more parts
            }
            if (isEncryptedPart(part, depth + 1)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isEncryptedPart(ImapValue.ListValue part, int depth) {
        List<ImapValue> items = part.items();
        if (depth > 100 || items.isEmpty()) {
            return false;
        }
        if (items.get(0) instanceof ImapValue.ListValue) {
            return "encrypted".equals(lower(subtypeAfterParts(items))) || holdsEncryptedPart(part, depth);
        }
        if (items.size() >= 2 && "application".equals(lower(items.get(0)))
                && "pgp-encrypted".equals(lower(items.get(1)))) {
            return true;
        }
        // message/rfc822: the encapsulated message's structure is the ninth item
        return items.size() > 8 && "message".equals(lower(items.get(0))) && "rfc822".equals(lower(items.get(1)))
                && items.get(8) instanceof ImapValue.ListValue inner && isEncryptedPart(inner, depth + 1);
    }

    private static ImapValue subtypeAfterParts(List<ImapValue> items) {
        int n = 0;
        while (n < items.size() && items.get(n) instanceof ImapValue.ListValue) {
            n++;
        }
        return n < items.size() ? items.get(n) : null;
    }

    /** A multipart: its parts, then the subtype, then (extension data) the parameter list. */
    private static boolean isPgpMime(List<ImapValue> items) {
        int parts = 0;
        while (parts < items.size() && items.get(parts) instanceof ImapValue.ListValue) {
            parts++;
        }
        if (parts != 2 || parts >= items.size() || !"encrypted".equals(lower(items.get(parts)))) {
            return false;
        }
        if (parts + 1 >= items.size() || !(items.get(parts + 1) instanceof ImapValue.ListValue params)
                || !"application/pgp-encrypted".equals(parameter(params, "protocol"))) {
            return false;
        }
        List<ImapValue> first = ((ImapValue.ListValue) items.get(0)).items();
        return first.size() >= 2 && "application".equals(lower(first.get(0)))
                && "pgp-encrypted".equals(lower(first.get(1)));
    }

    /** A body parameter list ({@code ("protocol" "application/pgp-encrypted" "boundary" "b")}), lower-cased. */
    private static String parameter(ImapValue.ListValue params, String name) {
        List<ImapValue> p = params.items();
        for (int i = 0; i + 1 < p.size(); i += 2) {
            if (name.equals(lower(p.get(i)))) {
                return lower(p.get(i + 1));
            }
        }
        return null;
    }

    private static String lower(ImapValue v) {
        String s = null;
        if (v instanceof ImapValue.Quoted q) {
            s = q.text();
        } else if (v instanceof ImapValue.Literal l) {
            s = new String(l.octets(), StandardCharsets.UTF_8);
        }
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    /**
     * Whether a text/plain body starts (after whitespace) with an armored OpenPGP message, i.e. is inline PGP. The
     * caller passes the body's first octets ({@code BODY.PEEK[TEXT]<0.N>}).
     */
    public static boolean isInlinePgp(byte[] bodyStart) {
        int i = 0;
        while (i < bodyStart.length && (bodyStart[i] == ' ' || bodyStart[i] == '\t' || bodyStart[i] == '\r'
                || bodyStart[i] == '\n')) {
            i++;
        }
        if (bodyStart.length - i < ARMOR.length) {
            return false;
        }
        for (int k = 0; k < ARMOR.length; k++) {
            if (bodyStart[i + k] != ARMOR[k]) {
                return false;
            }
        }
        return true;
    }
}
