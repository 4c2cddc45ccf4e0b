package org.mailproxy.imap.session;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.tls.UpstreamTls;
import org.mailproxy.imap.codec.CommandLine;
import org.mailproxy.imap.codec.ImapResponseDecoder;
import org.mailproxy.imap.codec.ImapToken;
import org.mailproxy.imap.codec.ImapWireEncoder;
import org.mailproxy.imap.codec.LiteralChunk;
import org.mailproxy.imap.codec.ResponseError;
import org.mailproxy.imap.codec.ResponseLine;
import org.mailproxy.imap.protocol.Capabilities;
import org.mailproxy.imap.protocol.ImapVerb;

import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opens a connection to the provider on the client's event loop (both channels of a session share it, STYLE.md 7)
 * and brings it to the point where credentials may be sent:
 * <ol>
 *   <li>implicit TLS from the first byte, or plain TCP followed by a STARTTLS that must succeed: a greeting with
 *       PREAUTH, no STARTTLS capability, or a NO/BAD to STARTTLS abort the connection before any credential is sent
 *       (RFC 8314, SECURITY.md 9); octets after the STARTTLS OK and before the handshake close it (SECURITY.md 10);</li>
 *   <li>certificates verified with hostname checking by {@link UpstreamTls#newHandler} (SECURITY.md 11);</li>
 *   <li>the capabilities read after TLS (anything learned before is forgotten).</li>
 * </ol>
 * The greeting's text is never passed on (SECURITY.md 12). Auto-read is off; the setup handler reads as it needs.
 * When the link is ready, the setup handler replaces itself with the handler given by the caller.
 */
public final class UpstreamConnector {

    private final UpstreamTls tls;
    private final ImapSettings settings;
    private final ProxyMetrics metrics;
    private final Class<? extends Channel> channelType;

    public UpstreamConnector(UpstreamTls tls, ImapSettings settings, ProxyMetrics metrics, Class<? extends Channel> channelType) {
        this.tls = tls;
        this.settings = settings;
        this.metrics = metrics;
        this.channelType = channelType;
    }

    /**
     * Connects to {@code endpoint}; when ready, {@code handler} takes the setup handler's place in the pipeline and
     * the returned future succeeds. It fails with an {@link UpstreamFailure}.
     */
    public Future<UpstreamLink> connect(EventLoop loop, UpstreamEndpoint endpoint, ChannelHandler handler) {
        Promise<UpstreamLink> promise = loop.newPromise();
        String where = endpoint.host() + ":" + endpoint.port();
        boolean implicit = endpoint.tls() == UpstreamEndpoint.TlsMode.IMPLICIT;
        long started = System.nanoTime();
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(channelType)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.upstreamConnectTimeout().toMillis()))
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (implicit) {
                            ch.pipeline().addLast("tls", tls.newHandler(ch.alloc(), endpoint.host(), endpoint.port()));
                        }
                        ch.pipeline().addLast("decoder", new ImapResponseDecoder(settings.limits().maxResponseLine(),
                                settings.limits().maxParenDepth()));
                        ch.pipeline().addLast("encoder", new ImapWireEncoder());
                        // an encrypted draft is streamed from its spool as the provider takes it
                        ch.pipeline().addLast("chunked", new io.netty.handler.stream.ChunkedWriteHandler());
                        ch.pipeline().addLast("setup", new SetupHandler(promise, endpoint, where, handler));
                    }
                });
        ChannelFuture cf = b.connect(endpoint.host(), endpoint.port());
        cf.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                promise.tryFailure(UpstreamFailure.from(f.cause(), where));
                return;
            }
            metrics.upstreamConnected(java.time.Duration.ofNanos(System.nanoTime() - started));
        });
        // The whole setup (TLS, greeting, STARTTLS, CAPABILITY) is bounded by the connect timeout too.
        ScheduledFuture<?> timer = loop.schedule(() -> {
            if (promise.tryFailure(new UpstreamFailure(Outcome.UNREACHABLE, where + " did not answer in time"))) {
                cf.channel().close();
            }
        }, settings.upstreamConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        promise.addListener(f -> {
            timer.cancel(false);
            if (!f.isSuccess()) {
                cf.channel().close();
            }
        });
        return promise;
    }

    private enum Step { GREETING, CAPABILITY_BEFORE_TLS, STARTTLS, HANDSHAKE, CAPABILITY, DONE }

    /** Drives greeting, STARTTLS and CAPABILITY; one instance per connection. */
    private final class SetupHandler extends ChannelInboundHandlerAdapter {
        private final Promise<UpstreamLink> promise;
        private final UpstreamEndpoint endpoint;
        private final String where;
        private final ChannelHandler next;
        private final TagSequence tags = new TagSequence();
        private Step step = Step.GREETING;
        private String pendingTag;
        private List<String> capabilities;
        private boolean tlsUp;
        private long handshakeStarted;

        SetupHandler(Promise<UpstreamLink> promise, UpstreamEndpoint endpoint, String where, ChannelHandler next) {
            this.promise = promise;
            this.endpoint = endpoint;
            this.where = where;
            this.next = next;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            if (ssl != null) {
                watchHandshake(ctx, ssl);
            }
            ctx.read();
            ctx.fireChannelActive();
        }

        private void watchHandshake(ChannelHandlerContext ctx, SslHandler ssl) {
            handshakeStarted = System.nanoTime();
            ssl.handshakeFuture().addListener(f -> {
                if (f.isSuccess()) {
                    metrics.upstreamHandshake(java.time.Duration.ofNanos(System.nanoTime() - handshakeStarted));
                    tlsUp = true;
                    if (step == Step.HANDSHAKE) {
                        capabilities = null;
                        sendCapability(ctx);
                    }
                } else {
                    metrics.upstreamTlsFailure();
                    fail(ctx, UpstreamFailure.from(f.cause(), where));
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (promise.isDone()) {
                    return;
                }
                if (msg instanceof ResponseError e) {
                    fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " broke the IMAP protocol: " + e.reason()));
                } else if (msg instanceof ResponseLine line && line.isFirst()) {
                    onResponse(ctx, line);
                }
                // Later pieces and literal chunks of responses during setup carry nothing the setup needs.
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void onResponse(ChannelHandlerContext ctx, ResponseLine line) {
            switch (step) {
                case GREETING -> {
                    if (line.kind() != ResponseLine.Kind.UNTAGGED) {
                        fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " did not greet with IMAP"));
                    } else if (line.name().equals("PREAUTH")) {
                        // RFC 8314 / NO STARTTLS: a PREAUTH greeting would skip STARTTLS; never accepted.
                        fail(ctx, new UpstreamFailure(tlsUp ? Outcome.PROTOCOL_ERROR : Outcome.STARTTLS_UNAVAILABLE,
                                where + " greeted with PREAUTH; refusing the connection"));
                    } else if (!line.name().equals("OK")) {
                        fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " refused the session"));
                    } else {
                        List<String> greetingCaps = capabilityCode(line.code());
                        if (tlsUp) {
                            capabilities = greetingCaps;
                            if (capabilities == null) {
                                sendCapability(ctx);
                            } else {
                                ready(ctx);
                            }
                        } else if (greetingCaps != null) {
                            startTls(ctx, greetingCaps);
                        } else {
                            step = Step.CAPABILITY_BEFORE_TLS;
                            pendingTag = send(ctx, ImapVerb.CAPABILITY);
                        }
                    }
                }
                case CAPABILITY_BEFORE_TLS, CAPABILITY -> {
                    if (line.kind() == ResponseLine.Kind.UNTAGGED && line.name().equals("CAPABILITY")) {
                        capabilities = atoms(line.tokens());
                    } else if (line.kind() == ResponseLine.Kind.UNTAGGED && line.name().equals("BYE")) {
                        fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " closed the session"));
                    } else if (line.kind() == ResponseLine.Kind.TAGGED && line.tag().equals(pendingTag)) {
                        if (!line.name().equals("OK") || capabilities == null) {
                            fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " did not list its capabilities"));
                        } else if (step == Step.CAPABILITY_BEFORE_TLS) {
                            startTls(ctx, capabilities);
                        } else {
                            ready(ctx);
                        }
                    }
                }
                case STARTTLS -> {
                    if (line.kind() == ResponseLine.Kind.TAGGED && line.tag().equals(pendingTag)) {
                        if (!line.name().equals("OK")) {
                            fail(ctx, new UpstreamFailure(Outcome.STARTTLS_UNAVAILABLE, where + " refused STARTTLS"));
                            return;
                        }
                        ImapResponseDecoder decoder = ctx.pipeline().get(ImapResponseDecoder.class);
                        if (decoder.bufferedOctets() > 0) {
                            // CVE-2021-38542 class: plaintext that would be read as if it came over TLS.
                            fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR,
                                    where + " sent data after accepting STARTTLS; refusing the connection"));
                            return;
                        }
                        step = Step.HANDSHAKE;
                        capabilities = null;
                        SslHandler ssl = tls.newHandler(ctx.alloc(), endpoint.host(), endpoint.port());
                        ctx.pipeline().addFirst("tls", ssl);
                        watchHandshake(ctx, ssl);
                    }
                    // Untagged responses before the STARTTLS OK are dropped: nothing before TLS is trusted.
                }
                default -> {
                }
            }
        }

        private void startTls(ChannelHandlerContext ctx, List<String> before) {
            if (before.stream().noneMatch(c -> c.equalsIgnoreCase("STARTTLS"))) {
                fail(ctx, new UpstreamFailure(Outcome.STARTTLS_UNAVAILABLE, where + " does not offer STARTTLS"));
                return;
            }
            step = Step.STARTTLS;
            pendingTag = send(ctx, ImapVerb.STARTTLS);
        }

        private void sendCapability(ChannelHandlerContext ctx) {
            step = Step.CAPABILITY;
            pendingTag = send(ctx, ImapVerb.CAPABILITY);
        }

        private String send(ChannelHandlerContext ctx, ImapVerb verb) {
            String tag = tags.next();
            ctx.writeAndFlush(new CommandLine(tag, verb,
                    Unpooled.copiedBuffer(tag + " " + verb.name(), StandardCharsets.US_ASCII), true, null));
            return tag;
        }

        private void ready(ChannelHandlerContext ctx) {
            step = Step.DONE;
            ctx.pipeline().replace(this, "session", next);
            promise.trySuccess(new UpstreamLink(ctx.channel(), new Capabilities(capabilities), tags));
        }

        private void fail(ChannelHandlerContext ctx, UpstreamFailure failure) {
            if (promise.tryFailure(failure)) {
                ctx.close();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!promise.isDone()) {
                ctx.read();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(ctx, new UpstreamFailure(Outcome.PROTOCOL_ERROR, where + " closed the connection during setup"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // TLS failures are counted once, by the handshake listener.
            fail(ctx, UpstreamFailure.from(cause, where));
        }
    }

    /** The atoms of {@code CAPABILITY a b c} in a response code, or null when the code is not CAPABILITY. */
    static List<String> capabilityCode(String code) {
        if (code == null) {
            return null;
        }
        List<String> parts = org.mailproxy.imap.protocol.CapabilityFilter.split(code);
        if (parts.isEmpty() || !parts.get(0).equalsIgnoreCase("CAPABILITY")) {
            return null;
        }
        return List.copyOf(parts.subList(1, parts.size()));
    }

    static List<String> atoms(List<ImapToken> tokens) {
        List<String> out = new ArrayList<>();
        for (ImapToken t : tokens) {
            if (t instanceof ImapToken.Atom a) {
                out.add(a.text());
            }
        }
        return out;
    }
}
