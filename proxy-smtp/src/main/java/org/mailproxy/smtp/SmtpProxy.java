package org.mailproxy.smtp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import org.mailproxy.config.SmtpSettings;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.ProxyService;
import org.mailproxy.core.net.SessionIds;
import org.mailproxy.smtp.codec.SmtpCommandDecoder;
import org.mailproxy.smtp.codec.SmtpReplyEncoder;
import org.mailproxy.smtp.transform.EncryptingTransform;
import org.mailproxy.smtp.transform.IdentityTransform;
import org.mailproxy.smtp.transform.MessageTransform;
import org.mailproxy.smtp.upstream.UpstreamConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The local SMTP submission listener (RFC 6409) in front of each account's provider. Client pipeline, head to tail:
 * {@code [tls]} (implicit local TLS; STARTTLS adds it later), {@link IdleStateHandler} (smtp.timeouts.client-idle),
 * {@link SmtpCommandDecoder}, {@link SmtpReplyEncoder}, {@link SmtpSession}. Auto-read is off: sessions read when
 * they can use the input.
 */
public final class SmtpProxy implements ProxyService {

    private static final Logger log = LoggerFactory.getLogger(SmtpProxy.class);

    private final ProxyContext context;
    private final ProxyMetrics metrics;
    private final SessionSettings settings;
    private final Set<SmtpSession> sessions = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Void> allClosed = new CompletableFuture<>();
    private volatile boolean draining;
    private volatile Channel serverChannel;

    /**
     * The daemon's listener: outgoing mail is encrypted and signed by each account's policy
     * ({@link EncryptingTransform}) when the context has the accounts' keys, and relayed as it is otherwise
     * (checks and relay tests).
     */
    public SmtpProxy(ProxyContext context) {
        this(context, context.accountKeys().accounts().isEmpty() ? IdentityTransform.INSTANCE
                : EncryptingTransform.forDaemon(context.config().dataDir().resolve("keys"),
                context.config().accounts(), context.accountKeys(),
                context.config().smtp().limits().maxHeaderSection()));
    }

    /** With a transform between the client's message and the upstream (signing and encryption plug in here). */
    public SmtpProxy(ProxyContext context, MessageTransform transform) {
        this.context = context;
        this.metrics = new ProxyMetrics(context.meters(), "smtp");
        SmtpSettings smtp = context.config().smtp();
        UpstreamConnector connector = new UpstreamConnector(context.upstreamTls(), context.loops().channelType(),
                smtp.upstreamConnectTimeout(), smtp.upstreamReplyTimeout(), metrics);
        this.settings = new SessionSettings(context.config(), context.localTls(), connector, transform, metrics,
                new SessionSettings.SessionRegistry() {
                    @Override
                    public void opened(SmtpSession session) {
                        sessions.add(session);
                    }

                    @Override
                    public void closed(SmtpSession session) {
                        sessions.remove(session);
                        if (draining && sessions.isEmpty()) {
                            allClosed.complete(null);
                        }
                    }
                }, context.localAuth());
    }

    @Override
    public String name() {
        return "smtp";
    }

    @Override
    public void start() throws IOException {
        SmtpSettings smtp = context.config().smtp();
        ServerBootstrap b = new ServerBootstrap()
                .group(context.loops().acceptors(), context.loops().workers())
                .channel(context.loops().serverChannelType())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (draining) {
                            ch.close();
                            return;
                        }
                        ChannelPipeline p = ch.pipeline();
                        if (settings.localTls().isImplicit()) {
                            p.addLast("tls", settings.localTls().newHandler(ch.alloc()));
                        }
                        p.addLast("idle", new IdleStateHandler(smtp.clientIdleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
                        SmtpCommandDecoder decoder = new SmtpCommandDecoder(smtp.limits().maxCommandLine());
                        p.addLast("commands", decoder);
                        p.addLast("replies", SmtpReplyEncoder.INSTANCE);
                        p.addLast("session", new SmtpSession(settings, decoder, SessionIds.next("smtp")));
                    }
                });
        ChannelFuture bound = b.bind(smtp.listen().toSocketAddress()).awaitUninterruptibly();
        if (!bound.isSuccess()) {
            Throwable cause = bound.cause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot listen on " + smtp.listen() + ": " + cause.getMessage(), cause);
        }
        serverChannel = bound.channel();
        log.info("smtp listening on {} (local TLS {})", boundAddress(), settings.localTls().mode());
    }

    @Override
    public InetSocketAddress boundAddress() {
        Channel ch = serverChannel;
        if (ch == null) {
            throw new IllegalStateException("not started");
        }
        return (InetSocketAddress) ch.localAddress();
    }

    @Override
    public void stopAccepting() {
        Channel ch = serverChannel;
        if (ch != null) {
            ch.close().awaitUninterruptibly();
        }
    }

    @Override
    public CompletionStage<Void> drainAndClose(Duration grace) {
        draining = true;
        stopAccepting();
        if (sessions.isEmpty()) {
            allClosed.complete(null);
            return allClosed;
        }
        log.info("smtp draining {} session(s), at most {}s", sessions.size(), grace.toSeconds());
        for (SmtpSession s : sessions) {
            s.channel().eventLoop().execute(s::drain);
        }
        context.loops().workers().next().schedule(() -> {
            for (SmtpSession s : sessions) {
                s.channel().eventLoop().execute(s::forceClose);
            }
        }, grace.toMillis(), TimeUnit.MILLISECONDS);
        return allClosed;
    }

    @Override
    public int activeSessions() {
        return sessions.size();
    }
}
