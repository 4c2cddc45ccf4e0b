package org.mailproxy.imap.codec;

/**
 * The lexical pieces of a data response line (RFC 9051 4): atoms, quoted strings, parentheses and a literal at
 * the end of a piece. Brackets stay inside atoms ({@code BODY[HEADER.FIELDS}, {@code ]}), as the section grammar
 * mixes them with lists.
 */
public sealed interface ImapToken {

    record Atom(String text) implements ImapToken {
    }

    record Quoted(String text) implements ImapToken {
    }

    /**
     * An opening parenthesis; {@code joined} when it follows a closing one with no space between, as the bodies of
     * a multipart BODYSTRUCTURE do ({@code body-type-mpart = 1*body SP media-subtype}, RFC 9051 9).
     */
    record Open(boolean joined) implements ImapToken {
    }

    record Close() implements ImapToken {
    }

    record Literal(LiteralSpec spec) implements ImapToken {
    }

    Open OPEN = new Open(false);
    Open JOINED_OPEN = new Open(true);
    Close CLOSE = new Close();
}
