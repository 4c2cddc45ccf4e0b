/**
 * The SMTP relay: a local submission server (RFC 6409) in front of each account's provider.
 *
 * <p>Data path. Client octets pass {@code [SslHandler]} and {@link org.mailproxy.smtp.codec.SmtpCommandDecoder},
 * which frames command lines, and after a DATA that the upstream answered with 354 hands the octets to
 * {@link org.mailproxy.smtp.codec.SmtpDataDecoder}: a byte state machine that ends only on CRLF.CRLF, refuses bare
 * CR, bare LF and NUL (SMTP smuggling), removes dot stuffing and emits the message in chunks. The
 * {@link org.mailproxy.smtp.SmtpSession} (one state enum, one transition method) passes each chunk to a
 * {@link org.mailproxy.smtp.transform.MessageStream} (identity now; signing and PGP/MIME encryption later), whose
 * output is stuffed again by {@link org.mailproxy.smtp.codec.DotStuffer} and written to the
 * {@link org.mailproxy.smtp.upstream.UpstreamLink}. The final reply is relayed only after the upstream gave it, so the
 * client's 250 means the provider has the message. If the data is refused or the client leaves mid-DATA, the
 * upstream connection is dropped before the terminator: nothing is delivered.
 *
 * <p>Commands. The session answers EHLO/HELO (its own capability list), STARTTLS, HELP and QUIT, and relays AUTH
 * (step by step, payloads never logged), MAIL, RCPT, RSET, NOOP, VRFY and unknown verbs one at a time, relaying each
 * upstream reply. With one configured account the upstream is connected before the greeting; with several, the
 * login inside AUTH selects the account and the upstream is connected then.
 *
 * <p>Upstream. {@link org.mailproxy.smtp.upstream.UpstreamConnector} opens TCP on the client's event loop, then
 * implicit TLS or a mandatory STARTTLS, with hostname-verified certificates, and EHLO after TLS; the same connector
 * serves {@code mailproxy check} ({@link org.mailproxy.smtp.SmtpUpstreamProbe}).
 *
 * <p>Backpressure. Both channels have auto-read off. The client is read only when its queue of pipelined commands
 * is empty and the state wants input, and during DATA only while the upstream is writable; the upstream is read only
 * while a reply is awaited. Every wait has a deadline: client-idle, upstream-connect, upstream-reply.
 */
package org.mailproxy.smtp;
