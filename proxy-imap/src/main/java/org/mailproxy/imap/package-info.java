/**
 * The IMAP relay.
 *
 * <p>Data path, client to provider: bytes from the local client (optionally through a local {@code SslHandler})
 * are framed by {@link org.mailproxy.imap.codec.ImapCommandDecoder} into command line pieces and counted literal
 * chunks; {@link org.mailproxy.imap.session.ImapSession} answers pre-login commands itself, logs in upstream
 * through {@link org.mailproxy.imap.session.UpstreamConnector} (implicit TLS or mandatory STARTTLS, verified
 * certificate) and then relays each command under the proxy's own tag; {@link org.mailproxy.imap.codec.ImapWireEncoder}
 * writes the pieces upstream with exact literal counts.
 *
 * <p>Provider to client: {@link org.mailproxy.imap.codec.ImapResponseDecoder} frames responses into pieces that
 * carry their parsed head (tag, number, name, response code) and tokens, with literals streamed as chunks; the
 * session maps tags back, filters capabilities ({@link org.mailproxy.imap.protocol.CapabilityFilter}) and relays
 * everything else untouched, while {@link org.mailproxy.imap.mailbox.MailboxState} follows sequence numbers and
 * UIDs (EXISTS, EXPUNGE, VANISHED, FETCH UID).
 *
 * <p>Where decryption will go: a handler between the response decoder and the session on the upstream pipeline
 * reads FETCH responses item by item ({@link org.mailproxy.imap.codec.FetchItemsParser}), issues its own commands
 * with tags from the connection's {@link org.mailproxy.imap.session.TagSequence} (the session ignores tagged
 * responses it did not send), and writes rewritten responses with {@link org.mailproxy.imap.codec.FetchResponseWriter},
 * whose literal counts the encoder enforces.
 *
 * <p>Both channels of a session share one event loop; auto-read is off on both and each side is read only while
 * the other is writable, so a slow or vanished peer stalls only its own session and never grows the heap.
 */
package org.mailproxy.imap;
