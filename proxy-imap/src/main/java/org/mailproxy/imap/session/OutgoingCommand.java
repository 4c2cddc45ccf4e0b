package org.mailproxy.imap.session;

import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import org.mailproxy.imap.codec.WireLine;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A command the proxy sends on its own (the login), in parts: line pieces, literals and lines that may only follow
 * a continuation request. {@link #writeUntilContinuation} writes until the next "+" is needed.
 */
public final class OutgoingCommand {

    /** Marks a point where the provider's "+" must arrive before the rest is sent (AUTHENTICATE without SASL-IR). */
    static final Object AWAIT_CONTINUATION = new Object();

    private final Deque<Object> parts = new ArrayDeque<>();

    public OutgoingCommand add(Object part) {
        parts.add(part);
        return this;
    }

    /** Writes parts; returns true when all are written, false when it stopped to wait for a continuation. */
    public boolean writeUntilContinuation(Channel channel) {
        while (!parts.isEmpty()) {
            Object p = parts.poll();
            if (p == AWAIT_CONTINUATION) {
                channel.flush();
                return false;
            }
            channel.write(p);
            if (p instanceof WireLine line && line.literal() != null && line.literal().synchronizing()) {
                channel.flush();
                return false;
            }
        }
        channel.flush();
        return true;
    }

    public boolean isDone() {
        return parts.isEmpty();
    }

    public void discard() {
        for (Object p : parts) {
            ReferenceCountUtil.release(p);
        }
        parts.clear();
    }
}
