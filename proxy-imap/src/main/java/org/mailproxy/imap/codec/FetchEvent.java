package org.mailproxy.imap.codec;

/**
 * A FETCH response (RFC 9051 7.5.2) item by item, as {@link FetchItemsParser} reads it: {@code Begin}, then per
 * item an {@code Item} or a {@code LiteralItem} followed by the {@link LiteralChunk}s of its value, then {@code End}.
 * A rewriter for decrypted messages replaces some items (BODY[...], BODYSTRUCTURE, RFC822.SIZE) and passes the rest
 * to {@link FetchResponseWriter}, which counts every literal exactly.
 */
public sealed interface FetchEvent {

    record Begin(long number) implements FetchEvent {
    }

    /** An item whose value is complete: {@code UID 7}, {@code FLAGS (\Seen)}, {@code BODYSTRUCTURE (...)}. */
    record Item(String name, ImapValue value) implements FetchEvent {
    }

    /** An item whose value is a literal ({@code BODY[] {n}}); its octets follow as chunks, the last one marked. */
    record LiteralItem(String name, LiteralSpec spec) implements FetchEvent {
    }

    record End() implements FetchEvent {
    }
}
