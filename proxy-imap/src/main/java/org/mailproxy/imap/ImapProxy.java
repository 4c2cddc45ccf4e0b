package org.mailproxy.imap;

import io.netty.handler.stream.ChunkedWriteHandler;
import org.mailproxy.core.cache.MessageCache;
import org.mailproxy.imap.view.AccountViews;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.ProxyService;
import org.mailproxy.core.net.SessionIds;
import org.mailproxy.imap.codec.ImapCommandDecoder;
import org.mailproxy.imap.codec.ImapWireEncoder;
import org.mailproxy.imap.session.ImapSession;
import org.mailproxy.imap.session.UpstreamConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The IMAP listener. Each accepted connection gets the client pipeline
 * {@code [tls] -> ImapCommandDecoder -> ImapWireEncoder -> IdleStateHandler -> ImapSession}, with auto-read off;
 * the session opens its upstream connection on the same event loop.
 */
public final class ImapProxy implements ProxyService {

    private static final Logger log = LoggerFactory.getLogger(ImapProxy.class);

    private final ProxyContext context;
    private final ImapSettings settings;
    private final ProxyMetrics metrics;
    private final UpstreamConnector connector;
    private final AccountViews views;
    private final ChannelGroup sessions = new DefaultChannelGroup("imap-sessions", GlobalEventExecutor.INSTANCE);
    private final CompletableFuture<Void> drained = new CompletableFuture<>();
    private volatile boolean draining;
    private Channel server;
    private InetSocketAddress bound;

    public ImapProxy(ProxyContext context) {
        this.context = context;
        this.settings = context.config().imap();
        this.metrics = new ProxyMetrics(context.meters(), "imap");
        this.connector = new UpstreamConnector(context.upstreamTls(), settings, metrics, context.loops().channelType());
        this.views = context.accountKeys().accounts().isEmpty() ? null
                : new AccountViews(context.config().dataDir(), context.accountKeys(),
                Math.max(1, Runtime.getRuntime().availableProcessors()), MessageCache.DEFAULT_MAX_TOTAL_BYTES,
                settings.limits());
    }

    @Override
    public String name() {
        return "imap";
    }

    @Override
    public void start() throws IOException {
        ImapSettings.Limits limits = settings.limits();
        long idleSeconds = Math.max(1, settings.clientIdleTimeout().toSeconds());
        ServerBootstrap b = new ServerBootstrap()
                .group(context.loops().acceptors(), context.loops().workers())
                .channel(context.loops().serverChannelType())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        sessions.add(ch);
                        if (context.localTls().isImplicit()) {
                            ch.pipeline().addLast("tls", context.localTls().newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast("decoder", new ImapCommandDecoder(limits.maxCommandLine(),
                                limits.maxLiteral(), limits.maxNonSyncLiteral()));
                        ch.pipeline().addLast("encoder", new ImapWireEncoder());
                        // literals of decrypted messages are streamed from the cache as the client reads them
                        ch.pipeline().addLast("chunked", new ChunkedWriteHandler());
                        // RFC 9051 5.4: an idle client is logged out after client-idle (at least 30 minutes);
                        // output progress counts as activity, so a slow download is not cut.
                        ch.pipeline().addLast("idle", new IdleStateHandler(true, 0, 0, idleSeconds, TimeUnit.SECONDS));
                        ch.pipeline().addLast("session", new ImapSession(SessionIds.next("imap"), context.config(),
                                context.localTls(), metrics, connector, views, context.localAuth(), ImapProxy.this::sessionClosed));
                    }
                });
        ChannelFuture f = b.bind(settings.listen().toSocketAddress()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable c = f.cause();
            String where = context.config().describe("mailproxy.imap.listen") + " = " + settings.listen();
            if (c instanceof BindException) {
                BindException e = new BindException("cannot listen on " + where + ": " + c.getMessage());
                e.initCause(c);
                throw e;
            }
            throw new IOException("cannot listen on " + where + ": " + c.getMessage(), c);
        }
        server = f.channel();
        bound = (InetSocketAddress) server.localAddress();
        log.info("imap listening on {} (local TLS {})", bound, context.localTls().mode());
    }

    @Override
    public InetSocketAddress boundAddress() {
        if (bound == null) {
            throw new IllegalStateException("not started");
        }
        return bound;
    }

    @Override
    public void stopAccepting() {
        if (server != null) {
            server.close().awaitUninterruptibly();
        }
    }

    /** IMAP has nothing in flight worth waiting for: every session gets {@code * BYE} and is closed at once. */
    @Override
    public CompletionStage<Void> drainAndClose(Duration grace) {
        stopAccepting();
        draining = true;
        for (Channel ch : sessions) {
            ch.eventLoop().execute(() -> {
                ImapSession s = ch.pipeline().get(ImapSession.class);
                if (s != null && ch.isActive()) {
                    s.closeWithBye("mailproxy shutting down");
                } else {
                    ch.close();
                }
            });
        }
        // A client that does not read its BYE is cut off after the grace period.
        GlobalEventExecutor.INSTANCE.schedule(() -> {
            sessions.close();
        }, Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
        sessionClosed();
        return drained;
    }

    private void sessionClosed() {
        if (draining && metrics.activeSessions() == 0) {
            if (views != null) {
                views.close();
            }
            drained.complete(null);
        }
    }

    @Override
    public int activeSessions() {
        return metrics.activeSessions();
    }
}
