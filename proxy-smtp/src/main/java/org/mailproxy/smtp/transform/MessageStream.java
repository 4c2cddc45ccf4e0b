package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;
import org.mailproxy.smtp.codec.SmtpException;

/**
 * One message passing through a {@link MessageTransform}. The input is the message as the client sent it, dots
 * unstuffed, CRLF line endings, in chunks that split anywhere. Exactly one of {@link #end} or {@link #abort} is
 * called last.
 */
public interface MessageStream {

    /** A chunk of content; the stream takes ownership and releases it. */
    void write(ByteBuf content) throws SmtpException;

    /** The client finished the message; write what is left to the sink. */
    void end() throws SmtpException;

    /** The message will not be sent (client gone, upstream gone, refused): release everything, write nothing more. */
    void abort();
}
