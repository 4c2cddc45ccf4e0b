package org.mailproxy.imap.codec;

/** What {@link ImapResponseDecoder} emits when the provider breaks framing; the decoder then discards everything. */
public record ResponseError(String reason) {
}
