package org.mailproxy.imap.codec;

import java.util.List;

/**
 * A value inside a FETCH item (RFC 9051 9, {@code msg-att}): an atom (numbers, NIL, flags), a quoted string, a
 * small literal that sat inside a list (an ENVELOPE subject), or a parenthesised list of values.
 */
public sealed interface ImapValue {

    record Atom(String text) implements ImapValue {
    }

    record Quoted(String text) implements ImapValue {
    }

    /** A literal nested in a list; top-level literal values are streamed instead (see {@link FetchEvent.LiteralItem}). */
    record Literal(byte[] octets) implements ImapValue {
    }

    /** {@code joined}: written right after the preceding list with no space (multipart BODYSTRUCTURE). */
    record ListValue(List<ImapValue> items, boolean joined) implements ImapValue {
        public ListValue {
            items = List.copyOf(items);
        }

        public ListValue(List<ImapValue> items) {
            this(items, false);
        }
    }
}
