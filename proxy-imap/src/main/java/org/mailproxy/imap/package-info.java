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
 * everything else untouched. Untagged FETCH responses pass through one method of the session, where a FETCH
 * rewriter for decrypted messages will sit; the response pieces already expose FETCH items as tokens.
 *
 * <p>Both channels of a session share one event loop; auto-read is off on both and each side is read only while
 * the other is writable, so a slow or vanished peer stalls only its own session and never grows the heap.
 */
package org.mailproxy.imap;
