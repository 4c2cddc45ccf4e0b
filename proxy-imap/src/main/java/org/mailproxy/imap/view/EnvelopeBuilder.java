package org.mailproxy.imap.view;

import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.imap.codec.ImapValue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The ENVELOPE of a decrypted message (RFC 9051 §7.5.2) from its header, as a server builds it from the raw
 * fields: date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to, message-id. Strings are the fields' raw
 * text (encoded-words stay encoded, as servers return them); a missing field is NIL; sender and reply-to default to
 * from. Addresses are {@code (name adl mailbox host)}, a group opens with {@code (NIL NIL name NIL)} and closes
 * with {@code (NIL NIL NIL NIL)}. Text with 8-bit octets or beyond the quoted-string limit goes as a literal.
 */
public final class EnvelopeBuilder {
    private static final ImapValue NIL = new ImapValue.Atom("NIL");
    private static final int MAX_QUOTED = 1000;

    private EnvelopeBuilder() {
    }

    public static ImapValue envelope(List<HeaderField> header) {
        ImapValue from = addresses(header, "From");
        ImapValue sender = addresses(header, "Sender");
        ImapValue replyTo = addresses(header, "Reply-To");
        return new ImapValue.ListValue(List.of(
                string(field(header, "Date")),
                string(field(header, "Subject")),
                from,
                sender == NIL ? from : sender,
                replyTo == NIL ? from : replyTo,
                addresses(header, "To"),
                addresses(header, "Cc"),
                addresses(header, "Bcc"),
                string(field(header, "In-Reply-To")),
                string(field(header, "Message-ID"))));
    }

    /** The first field of that name, unfolded and trimmed; null when absent or empty. */
    private static String field(List<HeaderField> header, String name) {
        for (HeaderField f : header) {
            if (f.is(name)) {
                String v = f.unfolded();
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    static ImapValue string(String s) {
        if (s == null) {
            return NIL;
        }
        boolean plain = s.length() <= MAX_QUOTED && s.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
        return plain ? new ImapValue.Quoted(s) : new ImapValue.Literal(s.getBytes(StandardCharsets.UTF_8));
    }

    private static ImapValue addresses(List<HeaderField> header, String name) {
        String v = field(header, name);
        if (v == null) {
            return NIL;
        }
        List<ImapValue> out = new ArrayList<>();
        new AddressList(v, out).parse();
        return out.isEmpty() ? NIL : new ImapValue.ListValue(out);
    }

    private static ImapValue address(String name, String mailbox, String host) {
        return new ImapValue.ListValue(List.of(string(name), NIL, string(mailbox), string(host)));
    }

    /** A lenient RFC 5322 §3.4 address-list reader that keeps the raw display names. */
    private static final class AddressList {
        private final String s;
        private final List<ImapValue> out;
        private int i;
        private final List<String> words = new ArrayList<>();
        private boolean inGroup;

        AddressList(String s, List<ImapValue> out) {
            this.s = s;
            this.out = out;
        }

        void parse() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\t') {
                    i++;
                } else if (c == '(') {
                    skipComment();
                } else if (c == '"') {
                    words.add(quoted());
                } else if (c == '<') {
                    angle();
                } else if (c == ':' && !inGroup) {
                    i++;
                    out.add(new ImapValue.ListValue(List.of(NIL, NIL, string(phrase()), NIL)));
                    words.clear();
                    inGroup = true;
                } else if (c == ';' && inGroup) {
                    i++;
                    bare();
                    out.add(new ImapValue.ListValue(List.of(NIL, NIL, NIL, NIL)));
                    inGroup = false;
                } else if (c == ',') {
                    i++;
                    bare();
                } else {
                    String atom = atom();
                    if (!atom.isEmpty()) {
                        words.add(atom);
                    }
                }
            }
            bare();
            if (inGroup) {
                out.add(new ImapValue.ListValue(List.of(NIL, NIL, NIL, NIL)));
            }
        }

        /** {@code [phrase] <local@domain>} */
        private void angle() {
            int end = s.indexOf('>', i);
            String spec = s.substring(i + 1, end < 0 ? s.length() : end).trim();
            i = end < 0 ? s.length() : end + 1;
            int route = spec.lastIndexOf(':');
            if (route >= 0) {
                spec = spec.substring(route + 1);
            }
            int at = spec.lastIndexOf('@');
            String name = words.isEmpty() ? null : phrase();
            words.clear();
            out.add(at < 0 ? address(name, spec.isEmpty() ? null : spec, null)
                    : address(name, spec.substring(0, at), spec.substring(at + 1)));
        }

        /** A bare addr-spec gathered as words ({@code alice@example.org}). */
        private void bare() {
            if (words.isEmpty()) {
                return;
            }
            String spec = String.join("", words);
            words.clear();
            int at = spec.lastIndexOf('@');
            out.add(at < 0 ? address(null, spec, null) : address(null, spec.substring(0, at), spec.substring(at + 1)));
        }

        private String phrase() {
            return String.join(" ", words);
        }

        private String atom() {
            int start = i;
            while (i < s.length() && "()<>,;:\" \t".indexOf(s.charAt(i)) < 0) {
                i++;
            }
            if (i == start) {
                i++; // a special out of place (a second ':', a stray '>'): skipped
                return "";
            }
            return s.substring(start, i);
        }

        private String quoted() {
            StringBuilder b = new StringBuilder();
            i++;
            while (i < s.length() && s.charAt(i) != '"') {
                if (s.charAt(i) == '\\' && i + 1 < s.length()) {
                    i++;
                }
                b.append(s.charAt(i++));
            }
            i++;
            return b.toString();
        }

        private void skipComment() {
            int depth = 0;
            do {
                char c = s.charAt(i);
                if (c == '\\') {
                    i++;
                } else if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                }
                i++;
            } while (depth > 0 && i < s.length());
        }
    }
}
