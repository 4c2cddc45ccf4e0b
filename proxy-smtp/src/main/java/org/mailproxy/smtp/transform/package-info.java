/**
 * The seam where a message can be changed on its way upstream: {@link org.mailproxy.smtp.transform.MessageTransform}
 * opens a {@link org.mailproxy.smtp.transform.MessageStream} per message, fed with unstuffed CRLF content in chunks,
 * writing to a {@link org.mailproxy.smtp.transform.ContentSink} that stuffs and sends. Identity today; signing and
 * PGP/MIME encryption (RFC 3156) by policy later, streaming so that memory stays flat.
 */
package org.mailproxy.smtp.transform;
