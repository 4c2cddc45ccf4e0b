package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;

/** Sends the message as the client wrote it. */
public final class IdentityTransform implements MessageTransform {

    public static final IdentityTransform INSTANCE = new IdentityTransform();

    private IdentityTransform() {
    }

    @Override
    public MessageStream open(Envelope envelope, ContentSink out) {
        return new MessageStream() {
            @Override
            public void write(ByteBuf content) {
                out.write(content);
            }

            @Override
            public void end() {
            }

            @Override
            public void abort() {
            }
        };
    }
}
