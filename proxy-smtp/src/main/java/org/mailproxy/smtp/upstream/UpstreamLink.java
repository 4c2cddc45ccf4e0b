package org.mailproxy.smtp.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.smtp.codec.SmtpReply;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One connection to the provider, after TLS and EHLO. Commands go out with {@link #command}; each expects one reply,
 * which reaches the {@link Listener} (RFC 5321 4.2: replies come in order). The channel has auto-read off and is
 * read only while a reply is awaited, so an upstream cannot push data the session did not ask for. Every awaited
 * reply has a deadline (smtp.timeouts.upstream-reply). The first failure (closed, broken, silent) is reported
 * once and closes the channel.
 */
public final class UpstreamLink {

    /** Receives the upstream's replies and its end. Runs on the link's event loop. */
    public interface Listener {
        void upstreamReply(SmtpReply reply);

        void upstreamFailed(UpstreamFailure failure);

        /** The channel became writable again; a paused relay may read its client again. */
        default void upstreamWritable() {
        }
    }

    private final Channel channel;
    private final UpstreamEndpoint endpoint;
    private final Duration replyTimeout;
    private final ProxyMetrics metrics;
    private Listener listener;
    private Capabilities capabilities = new Capabilities(java.util.List.of());
    private int awaiting;
    private ScheduledFuture<?> deadline;
    private ScheduledFuture<?> stall;
    private boolean failed;

    UpstreamLink(Channel channel, UpstreamEndpoint endpoint, Duration replyTimeout, ProxyMetrics metrics, Listener listener) {
        this.channel = channel;
        this.endpoint = endpoint;
        this.replyTimeout = replyTimeout;
        this.metrics = metrics;
        this.listener = listener;
    }

    public UpstreamEndpoint endpoint() {
        return endpoint;
    }

    public Capabilities capabilities() {
        return capabilities;
    }

    void capabilities(Capabilities c) {
        this.capabilities = c;
    }

    public Channel channel() {
        return channel;
    }

    /** Hands the link to its user after setup. */
    public void listener(Listener l) {
        this.listener = l;
    }

    public boolean isOpen() {
        return !failed && channel.isActive();
    }

    public boolean isWritable() {
        return channel.isWritable();
    }

    /** Sends one command line (CRLF added) and awaits its reply. The line is never logged. */
    public void command(String line) {
        command((line + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends one command (CRLF included) and awaits its reply. */
    public void command(byte[] wire) {
        writeAndFlush(Unpooled.wrappedBuffer(wire));
        expectReply();
    }

    /** Writes message data; the reply comes after the terminator, see {@link #expectReply()}. */
    public void write(ByteBuf data) {
        metrics.bytesToUpstream(data.readableBytes());
        channel.write(data).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    public void flush() {
        channel.flush();
    }

    private void writeAndFlush(ByteBuf data) {
        metrics.bytesToUpstream(data.readableBytes());
        channel.writeAndFlush(data).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    /** One more reply is due: read for it, with a deadline. */
    public void expectReply() {
        awaiting++;
        armDeadline();
        channel.read();
    }

    /** Closes without a word: mid-DATA this is what keeps a half-sent message from being delivered. */
    public void abort() {
        failed = true;
        cancelDeadline();
        channel.close();
    }

    /** Sends QUIT without waiting for its reply, then closes. */
    public void quit() {
        if (channel.isActive() && !failed) {
            failed = true;
            cancelDeadline();
            channel.writeAndFlush(Unpooled.wrappedBuffer("QUIT\r\n".getBytes(StandardCharsets.US_ASCII)))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            abort();
        }
    }

    void fail(UpstreamFailure failure) {
        if (failed) {
            return;
        }
        failed = true;
        cancelDeadline();
        channel.close();
        listener.upstreamFailed(failure);
    }

    private void armDeadline() {
        cancelDeadline();
        deadline = channel.eventLoop().schedule(() -> fail(new UpstreamFailure(Outcome.UNREACHABLE,
                endpoint.host() + ":" + endpoint.port() + " did not answer within " + replyTimeout.toSeconds() + "s")),
                replyTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        cancelStall();
    }

    private void cancelStall() {
        if (stall != null) {
            stall.cancel(false);
            stall = null;
        }
    }

    private void onReply(SmtpReply reply) {
        if (failed) {
            return;
        }
        if (awaiting == 0) {
            fail(new UpstreamFailure(Outcome.PROTOCOL_ERROR, endpoint.host() + " sent a reply nobody asked for"));
            return;
        }
        awaiting--;
        if (awaiting == 0) {
            cancelDeadline();
        } else {
            armDeadline();
            channel.read();
        }
        listener.upstreamReply(reply);
    }

    /** The last handler of the upstream pipeline: delivers replies and the end to the link. */
    final class Inbound extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof SmtpReply r) {
                onReply(r);
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (awaiting > 0 && !failed) {
                ctx.read();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(new UpstreamFailure(Outcome.UNREACHABLE, endpoint.host() + ":" + endpoint.port() + " closed the connection"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(UpstreamFailure.classify(endpoint, cause));
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                cancelStall();
                if (!failed) {
                    listener.upstreamWritable();
                }
            } else if (!failed && stall == null) {
                // An upstream that stops reading would hold the client's data forever: give it the reply deadline.
                stall = channel.eventLoop().schedule(() -> fail(new UpstreamFailure(Outcome.UNREACHABLE,
                        endpoint.host() + ":" + endpoint.port() + " stopped accepting data for " + replyTimeout.toSeconds() + "s")),
                        replyTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            ctx.fireChannelWritabilityChanged();
        }
    }
}
