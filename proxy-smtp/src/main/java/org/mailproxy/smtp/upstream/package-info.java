/**
 * The provider side: {@link org.mailproxy.smtp.upstream.UpstreamConnector} (TCP, implicit TLS or mandatory
 * STARTTLS, EHLO), {@link org.mailproxy.smtp.upstream.UpstreamLink} (one command, one reply, each with a deadline;
 * read only while a reply is due) and {@link org.mailproxy.smtp.upstream.UpstreamFailure} (what went wrong, sorted
 * as {@code mailproxy check} reports it).
 */
package org.mailproxy.smtp.upstream;
