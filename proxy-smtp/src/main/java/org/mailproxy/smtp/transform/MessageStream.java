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

    /**
     * After {@link #end()}: messages that go upstream as transactions of their own once the first one was
     * accepted, e.g. a Bcc recipient's copy encrypted for them alone. The caller closes them when done.
     */
    default FurtherCopies furtherCopies() {
        return FurtherCopies.NONE;
    }

    /** One more message with its own recipients; {@link #writeTo} writes its content like the stream does. */
    interface Copy {
        java.util.List<String> recipients();

        void writeTo(ContentSink sink) throws SmtpException;
    }

    /** The copies still to send, and what they hold (a spool) until closed. */
    interface FurtherCopies extends AutoCloseable {
        FurtherCopies NONE = new FurtherCopies() {
            @Override
            public java.util.List<Copy> copies() {
                return java.util.List.of();
            }

            @Override
            public void close() {
            }
        };

        java.util.List<Copy> copies();

        @Override
        void close();
    }
}
