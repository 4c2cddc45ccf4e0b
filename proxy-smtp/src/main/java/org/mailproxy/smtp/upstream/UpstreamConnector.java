package org.mailproxy.smtp.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.TlsMode;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.tls.UpstreamTls;
import org.mailproxy.smtp.codec.SmtpReply;
import org.mailproxy.smtp.codec.SmtpReplyDecoder;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Opens a {@link UpstreamLink}: TCP, TLS (implicit, or a STARTTLS that must succeed), greeting, EHLO. Used by the
 * sessions and by {@code mailproxy check}, so both see the same upstream.
 *
 * <p>Security (SECURITY.md 9-12): with STARTTLS configured, a missing STARTTLS capability, a reply other than 220,
 * or any octet after that 220 before the handshake aborts before anything else is sent; the EHLO is repeated after
 * the handshake and what was learned before is dropped. Certificates are checked with the host name
 * ({@link UpstreamTls#newHandler}). Nothing the upstream says before TLS reaches a client.
 */
public final class UpstreamConnector {

    /** RFC 5321 4.1.4: an address literal, so the user's host name does not leak into Received headers. */
    public static final String EHLO_NAME = "[127.0.0.1]";
    static final int MAX_REPLY_LINE = 4096;
    static final int MAX_REPLY_LINES = 256;

    private final UpstreamTls tls;
    private final Class<? extends Channel> channelType;
    private final Duration connectTimeout;
    private final Duration replyTimeout;
    private final ProxyMetrics metrics;

    public UpstreamConnector(UpstreamTls tls, Class<? extends Channel> channelType, Duration connectTimeout,
                             Duration replyTimeout, ProxyMetrics metrics) {
        this.tls = tls;
        this.channelType = channelType;
        this.connectTimeout = connectTimeout;
        this.replyTimeout = replyTimeout;
        this.metrics = metrics;
    }

    /**
     * Connects on {@code loop} (the client channel's loop, so both sides of a session share one thread). The future
     * fails with an {@link UpstreamFailure}.
     */
    public Future<UpstreamLink> connect(EventLoop loop, UpstreamEndpoint endpoint) {
        Promise<UpstreamLink> promise = loop.newPromise();
        loop.execute(() -> new Attempt(loop, endpoint, promise).start());
        return promise;
    }

    private enum Step { CONNECT, GREETING, EHLO, STARTTLS, TLS, EHLO_AFTER_TLS, DONE }

    private final class Attempt implements UpstreamLink.Listener {
        private final EventLoop loop;
        private final UpstreamEndpoint endpoint;
        private final Promise<UpstreamLink> promise;
        private final String where;
        private Step step = Step.CONNECT;
        private UpstreamLink link;
        private SmtpReplyDecoder replies;
        private ScheduledFuture<?> overall;

        Attempt(EventLoop loop, UpstreamEndpoint endpoint, Promise<UpstreamLink> promise) {
            this.loop = loop;
            this.endpoint = endpoint;
            this.promise = promise;
            this.where = endpoint.host() + ":" + endpoint.port();
        }

        void start() {
            overall = loop.schedule(() -> fail(new UpstreamFailure(Outcome.UNREACHABLE, where
                            + " did not complete connect, TLS and EHLO within " + connectTimeout.toSeconds() + "s")),
                    connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
            long started = System.nanoTime();
            Bootstrap b = new Bootstrap()
                    .group(loop)
                    .channel(channelType)
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            link = new UpstreamLink(ch, endpoint, replyTimeout, metrics, Attempt.this);
                            replies = new SmtpReplyDecoder(MAX_REPLY_LINE, MAX_REPLY_LINES);
                            if (endpoint.tls() == TlsMode.IMPLICIT) {
                                ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), endpoint.host(), endpoint.port()));
                            }
                            ch.pipeline().addLast("replies", replies);
                            ch.pipeline().addLast("link", link.new Inbound());
                        }
                    });
            ChannelFuture cf = b.connect(endpoint.host(), endpoint.port());
            cf.addListener(f -> {
                if (!f.isSuccess()) {
                    fail(UpstreamFailure.classify(endpoint, f.cause()));
                    return;
                }
                metrics.upstreamConnected(Duration.ofNanos(System.nanoTime() - started));
                if (promise.isDone()) {
                    cf.channel().close();
                    return;
                }
                if (endpoint.tls() == TlsMode.IMPLICIT) {
                    step = Step.TLS;
                    awaitHandshake(cf.channel().pipeline().get(SslHandler.class), Step.GREETING);
                } else {
                    step = Step.GREETING;
                    link.expectReply();
                }
            });
        }

        private void awaitHandshake(SslHandler ssl, Step next) {
            long started = System.nanoTime();
            ssl.handshakeFuture().addListener(f -> {
                if (!f.isSuccess()) {
                    if (!promise.isDone()) {
                        metrics.upstreamTlsFailure();
                    }
                    fail(UpstreamFailure.classify(endpoint, f.cause()));
                    return;
                }
                metrics.upstreamHandshake(Duration.ofNanos(System.nanoTime() - started));
                if (promise.isDone()) {
                    return;
                }
                step = next;
                if (next == Step.GREETING) {
                    link.expectReply();
                } else {
                    link.command("EHLO " + EHLO_NAME);
                }
            });
        }

        @Override
        public void upstreamReply(SmtpReply reply) {
            if (promise.isDone()) {
                return;
            }
            switch (step) {
                case GREETING -> {
                    if (reply.code() != 220) {
                        // The greeting's text is not shown: before TLS it is unauthenticated (SECURITY.md 12).
                        fail(new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " refused the session (greeting " + reply.code() + ")"));
                        return;
                    }
                    step = Step.EHLO;
                    link.command("EHLO " + EHLO_NAME);
                }
                case EHLO -> {
                    if (reply.code() != 250) {
                        fail(new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " refused EHLO (" + reply.code() + ")"));
                        return;
                    }
                    if (endpoint.tls() == TlsMode.IMPLICIT) {
                        done(Capabilities.fromEhlo(reply));
                        return;
                    }
                    if (!Capabilities.fromEhlo(reply).has("STARTTLS")) {
                        fail(new UpstreamFailure(Outcome.STARTTLS_UNAVAILABLE, where
                                + " does not offer STARTTLS; not continuing without TLS (RFC 8314)"));
                        return;
                    }
                    step = Step.STARTTLS;
                    link.command("STARTTLS");
                }
                case STARTTLS -> {
                    if (reply.code() != 220) {
                        fail(new UpstreamFailure(Outcome.STARTTLS_UNAVAILABLE, where + " refused STARTTLS (" + reply.code() + ")"));
                        return;
                    }
                    if (replies.bufferedBytes() > 0) {
                        // CVE-2011-0411 family: octets sent before the handshake would be read as if they came
                        // through TLS.
                        fail(new UpstreamFailure(Outcome.TLS_FAILED, where
                                + " sent data after its STARTTLS reply, before TLS; refusing (response injection)"));
                        return;
                    }
                    step = Step.TLS;
                    SslHandler ssl = tls.newHandler(link.channel().alloc(), endpoint.host(), endpoint.port());
                    link.channel().pipeline().addFirst("tls", ssl);
                    awaitHandshake(ssl, Step.EHLO_AFTER_TLS);
                }
                case EHLO_AFTER_TLS -> {
                    if (reply.code() != 250) {
                        fail(new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " refused EHLO after TLS (" + reply.summary() + ")"));
                        return;
                    }
                    done(Capabilities.fromEhlo(reply));
                }
                default -> fail(new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " sent a reply out of turn"));
            }
        }

        @Override
        public void upstreamFailed(UpstreamFailure failure) {
            if (step == Step.TLS && failure.outcome() != Outcome.BAD_CERTIFICATE && failure.outcome() != Outcome.TLS_FAILED
                    && !promise.isDone()) {
                // The connection ended during the handshake: that is a TLS failure for the user.
                metrics.upstreamTlsFailure();
                failure = new UpstreamFailure(Outcome.TLS_FAILED, "TLS with " + where + " failed (" + failure.getMessage() + ")");
            }
            fail(failure);
        }

        private void done(Capabilities caps) {
            step = Step.DONE;
            overall.cancel(false);
            link.capabilities(caps);
            if (!promise.trySuccess(link)) {
                link.abort();
            }
        }

        private void fail(UpstreamFailure failure) {
            if (overall != null) {
                overall.cancel(false);
            }
            if (promise.tryFailure(failure) && link != null) {
                link.abort();
            }
        }
    }
}
