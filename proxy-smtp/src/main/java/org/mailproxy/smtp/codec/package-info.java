/**
 * SMTP on the wire: client command lines ({@link org.mailproxy.smtp.codec.SmtpCommandDecoder}), message data
 * ({@link org.mailproxy.smtp.codec.SmtpDataDecoder}: strict CRLF.CRLF, unstuffing), dot stuffing towards the
 * upstream ({@link org.mailproxy.smtp.codec.DotStuffer}), upstream replies
 * ({@link org.mailproxy.smtp.codec.SmtpReplyDecoder}) and replies to the client
 * ({@link org.mailproxy.smtp.codec.SmtpReplyEncoder}, the one place replies become bytes;
 * {@link org.mailproxy.smtp.codec.SmtpReplies}, the one place the proxy words them). Every decoder takes its limits
 * in its constructor.
 */
package org.mailproxy.smtp.codec;
