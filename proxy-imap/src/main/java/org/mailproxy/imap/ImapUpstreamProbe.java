package org.mailproxy.imap;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.mailproxy.config.Account;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.UpstreamProbe;
import org.mailproxy.imap.codec.ResponseError;
import org.mailproxy.imap.codec.ResponseLine;
import org.mailproxy.imap.protocol.ImapVerb;
import org.mailproxy.imap.session.ClientLogin;
import org.mailproxy.imap.session.OutgoingCommand;
import org.mailproxy.imap.session.UpstreamConnector;
import org.mailproxy.imap.session.UpstreamFailure;
import org.mailproxy.imap.session.UpstreamLink;
import org.mailproxy.imap.session.UpstreamLogin;

import io.netty.util.concurrent.ScheduledFuture;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code mailproxy check} for IMAP: connects the way a session does ({@link UpstreamConnector}: TLS or mandatory
 * STARTTLS, verified certificate, capabilities after TLS), optionally logs in, and says what happened in words a
 * person can act on. The password is only held for the probe and erased after it was sent.
 */
public final class ImapUpstreamProbe implements UpstreamProbe {

    private final ProxyContext context;
    private final UpstreamConnector connector;

    public ImapUpstreamProbe(ProxyContext context) {
        this.context = context;
        this.connector = new UpstreamConnector(context.upstreamTls(), context.config().imap(),
                ProxyMetrics.noop("imap"), context.loops().channelType());
    }

    @Override
    public CompletionStage<ProbeResult> probe(Account account, Optional<Credentials> credentials) {
        CompletableFuture<ProbeResult> result = new CompletableFuture<>();
        EventLoop loop = context.loops().workers().next();
        LoginHandler handler = new LoginHandler(result);
        String where = account.imapUpstream().toString();
        connector.connect(loop, account.imapUpstream(), handler).addListener((Future<UpstreamLink> f) -> {
            if (!f.isSuccess()) {
                UpstreamFailure uf = UpstreamFailure.from(f.cause(), where);
                String detail = uf.getMessage() + (uf.getCause() != null && uf.getCause().getMessage() != null
                        ? " (" + uf.getCause().getMessage() + ")" : "");
                result.complete(new ProbeResult(uf.outcome(), detail, List.of()));
                return;
            }
            UpstreamLink link = f.getNow();
            List<String> caps = link.capabilities().list();
            if (credentials.isEmpty()) {
                link.channel().close();
                result.complete(new ProbeResult(Outcome.OK, where + ": TLS verified, capabilities read", caps));
                return;
            }
            handler.start(link, credentials.get(), where, loop);
        });
        return result;
    }

    /** Sends the login and waits for its tagged response. */
    private final class LoginHandler extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<ProbeResult> result;
        private Channel channel;
        private String tag;
        private String where;
        private List<String> caps;
        private OutgoingCommand command;
        private ScheduledFuture<?> timer;

        LoginHandler(CompletableFuture<ProbeResult> result) {
            this.result = result;
        }

        void start(UpstreamLink link, Credentials credentials, String where, EventLoop loop) {
            this.channel = link.channel();
            this.where = where;
            this.caps = link.capabilities().list();
            this.tag = link.tags().next();
            byte[] password = utf8(credentials.password());
            ClientLogin login = new ClientLogin.Password(credentials.login().getBytes(StandardCharsets.UTF_8), password);
            command = UpstreamLogin.command(tag, login, link.capabilities());
            login.erase();
            if (command == null) {
                finish(new ProbeResult(Outcome.PROTOCOL_ERROR, where + " offers no login the proxy can use", caps));
                return;
            }
            timer = loop.schedule(() -> finish(new ProbeResult(Outcome.UNREACHABLE, where + " did not answer the login in time", caps)),
                    context.config().imap().upstreamConnectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            command.writeUntilContinuation(channel);
            channel.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof ResponseError e) {
                    finish(new ProbeResult(Outcome.PROTOCOL_ERROR, where + " broke the IMAP protocol: " + e.reason(), caps));
                } else if (msg instanceof ResponseLine line && line.isFirst() && command != null) {
                    if (line.kind() == ResponseLine.Kind.CONTINUATION && !command.isDone()) {
                        command.writeUntilContinuation(channel);
                    } else if (line.kind() == ResponseLine.Kind.TAGGED && line.tag().equals(tag)) {
                        if (line.name().equals("OK")) {
                            channel.writeAndFlush(UpstreamLogin.line(tag + "l", ImapVerb.LOGOUT, tag + "l LOGOUT"));
                            finish(new ProbeResult(Outcome.OK, where + ": TLS verified, login accepted", caps));
                        } else {
                            finish(new ProbeResult(Outcome.AUTH_FAILED, where + " refused the login and password", caps));
                        }
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!result.isDone()) {
                ctx.read();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (channel != null) {
                finish(new ProbeResult(Outcome.PROTOCOL_ERROR, where + " closed the connection during login", caps));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(new ProbeResult(Outcome.PROTOCOL_ERROR, where + ": " + cause.getMessage(), caps == null ? List.of() : caps));
        }

        private void finish(ProbeResult r) {
            if (timer != null) {
                timer.cancel(false);
            }
            if (command != null) {
                command.discard();
            }
            if (result.complete(r) && channel != null) {
                channel.close();
            }
        }
    }

    private static byte[] utf8(char[] password) {
        ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        Arrays.fill(b.array(), (byte) 0);
        return out;
    }
}
