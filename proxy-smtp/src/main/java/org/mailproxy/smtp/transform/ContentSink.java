package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;

/**
 * Where a transform writes the message it produces: CRLF lines of at most 998 octets, no NUL. The sink stuffs dots
 * and sends upstream; it takes ownership of each buffer. Writes are synchronous and never block: backpressure is
 * the session's job (it stops reading the client while the upstream is not writable).
 */
public interface ContentSink {
    void write(ByteBuf content);

    /**
     * Before the first write, from a transform that {@linkplain MessageTransform#decidesRecipients() decides
     * recipients}: the envelope recipients (paths as in {@link Envelope#recipients()}) this copy goes to, when not
     * all of them. The others get {@linkplain MessageStream#furtherCopies() copies of their own}.
     */
    default void recipients(java.util.List<String> paths) {
    }
}
