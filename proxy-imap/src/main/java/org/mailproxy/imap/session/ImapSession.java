package org.mailproxy.imap.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import org.mailproxy.config.Account;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.auth.LocalAuthException;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.imap.codec.CommandError;
import org.mailproxy.imap.codec.CommandLine;
import org.mailproxy.imap.codec.ContinuationLine;
import org.mailproxy.imap.codec.ImapCommandDecoder;
import org.mailproxy.imap.codec.LiteralChunk;
import org.mailproxy.imap.codec.LiteralSpec;
import org.mailproxy.imap.codec.ResponseError;
import org.mailproxy.imap.codec.ResponseLine;
import org.mailproxy.imap.mailbox.MailboxState;
import org.mailproxy.imap.mailbox.MailboxUpdates;
import org.mailproxy.imap.protocol.Capabilities;
import org.mailproxy.imap.protocol.CapabilityFilter;
import org.mailproxy.imap.protocol.ImapError;
import org.mailproxy.imap.protocol.ImapReplies;
import org.mailproxy.imap.protocol.ImapVerb;
import org.mailproxy.core.crypto.openpgp.spool.Spool;
import org.mailproxy.imap.append.AppendFolders;
import org.mailproxy.imap.append.DraftEncryptor;
import org.mailproxy.imap.codec.ImapToken;
import org.mailproxy.imap.codec.ImapWireEncoder;
import org.mailproxy.imap.view.AccountViews;
import org.mailproxy.imap.view.EntryLiteral;
import org.mailproxy.imap.view.DecryptedMessages;
import org.mailproxy.imap.view.FetchRequest;
import org.mailproxy.imap.view.SearchCriteria;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One client's IMAP session: the last handler of the client pipeline, and (through {@link UpstreamHandler}) of the
 * upstream pipeline. Both channels run on the client's event loop, so nothing here is locked (STYLE.md 7).
 *
 * <p>Before login the proxy answers by itself (greeting, CAPABILITY, NOOP, ID, LOGOUT, STARTTLS, LOGIN,
 * AUTHENTICATE). LOGIN/AUTHENTICATE pick the account by login name, connect upstream through
 * {@link UpstreamConnector} and send the client's credentials with the proxy's own tag. After login every command
 * is relayed under a proxy tag ({@code mp7}) and its tagged response is mapped back to the client's tag; untagged
 * responses, literals and continuation requests are relayed as pieces, never buffered whole.
 *
 * <p>Backpressure: auto-read is off on both channels. The client is read only while the upstream is writable, no
 * continuation is pending that must be answered first, and fewer than {@link #MAX_IN_FLIGHT} commands are waiting;
 * the upstream is read only while the client is writable.
 */
public final class ImapSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ImapSession.class);

    /** Pipelined commands waiting for their tagged response before the proxy stops reading the client. */
    static final int MAX_IN_FLIGHT = 256;

    private static final Set<String> SASL_MECHANISMS = Set.of("PLAIN", "XOAUTH2", "OAUTHBEARER");
    /** Wrong local passwords a session may try before it is closed. */
    static final int MAX_LOCAL_AUTH_FAILURES = 3;

    /** The session's states (RFC 9051 3) plus the proxy's own; changed only by {@link #transition}. */
    public enum State { NOT_AUTHENTICATED, CONNECTING_UPSTREAM, AUTHENTICATED, SELECTED, IDLE, LOGOUT }

    /** What the next continuation request from upstream is for. */
    private enum Expect { NONE, RELAY, RELAY_AND_ARM, SWALLOW, APPEND }

    private final String id;
    private final MailproxyConfig config;
    private final ImapSettings settings;
    private final LocalTls localTls;
    private final ProxyMetrics metrics;
    private final UpstreamConnector connector;
    private final Runnable onClosed;

    private Channel client;
    private ImapCommandDecoder decoder;
    private State state = State.NOT_AUTHENTICATED;
    private boolean clientTls;
    private long openedAt;

    // Before login: the command being collected (small, bounded by max-command-line).
    private SmallCommand pending;
    private boolean preDiscard;
    private String saslTag;
    private String saslMechanism;

    // Login exchange with the provider.
    private String loginClientTag;
    private String loginTag;
    private String capabilityTag;
    private ClientLogin login;
    private OutgoingCommand loginCommand;
    private boolean loginAwaitsClient;
    private List<String> loginCapabilities;

    // Relay.
    private Channel upstream;
    private TagSequence tags;
    private Capabilities upstreamCaps = new Capabilities(List.of());
    private final Map<String, InFlight> inFlight = new HashMap<>();
    private InFlight current;
    private boolean discardCurrent;
    private Expect expect = Expect.NONE;
    private State beforeIdle;
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private boolean byeSent;
    private boolean closing;
    /** Since when the provider owes an answer without having sent a byte (System.nanoTime). */
    private long upstreamQuietSince;
    private io.netty.util.concurrent.ScheduledFuture<?> upstreamWatchdog;
    private final MailboxState mailbox = new MailboxState();

    // The decrypted view (null when the account has no unlocked key, or before login).
    private final AccountViews views;
    private Account account;

    // Local authentication (RFC 9051 6.2: the proxy is the server the client logs in to).
    private final LocalAuth localAuth;
    private int localAuthFailures;
    private FetchView fetchView;
    /** The rest of the current upstream response goes here instead of to the client (the view parses it). */
    private java.util.function.Consumer<Object> responseSink;
    /** A content FETCH waits until the commands before it are answered, then while the view prepares. */
    private boolean viewHold;
    private String selecting;
    private long selectingUidValidity;
    /** A SEARCH with literals, taken whole so the view can read its criteria; then waiting to be sent. */
    private SearchCapture searchCapture;
    private SearchCapture pendingSearch;

    /** The pieces of a SEARCH with literals: text ({@code String}) and literal octets ({@code byte[]}). */
    private static final class SearchCapture {
        static final int MAX_BYTES = 64 * 1024;
        final String clientTag;
        final ImapVerb verb;
        final boolean uid;
        final List<Object> parts = new ArrayList<>();
        java.io.ByteArrayOutputStream literal;
        int size;

        SearchCapture(String clientTag, ImapVerb verb, boolean uid) {
            this.clientTag = clientTag;
            this.verb = verb;
            this.uid = uid;
        }

        boolean add(String text) {
            size += text.length();
            parts.add(text);
            return size <= MAX_BYTES;
        }
    }

    /** The mailbox of the last COPY or MOVE sent, for the COPYUID in its answer. */
    private String copyDestination;
    // APPENDs to mailboxes whose mail is stored encrypted (Drafts, Sent).
    private AppendFolders appendFolders;
    private CapturedAppend capture;
    private CapturedAppend pendingAppend;
    private boolean appendEncrypting;
    private String discoveryTag;
    private InFlight appendInFlight;
    private Spool appendLiteral;
    private AutoCloseable appendResources;

    private record InFlight(String clientTag, String proxyTag, ImapVerb verb, FetchRequest fetch) {
        InFlight(String clientTag, String proxyTag, ImapVerb verb) {
            this(clientTag, proxyTag, verb, null);
        }
    }

    /** @param onClosed runs on the event loop after the session is closed and counted as closed */
    public ImapSession(String id, MailproxyConfig config, LocalTls localTls, ProxyMetrics metrics, UpstreamConnector connector,
                       Runnable onClosed) {
        this(id, config, localTls, metrics, connector, null, onClosed);
    }

    /** @param views the decrypted view of the accounts, or null to relay every message as stored */
    public ImapSession(String id, MailproxyConfig config, LocalTls localTls, ProxyMetrics metrics, UpstreamConnector connector,
                       AccountViews views, Runnable onClosed) {
        this(id, config, localTls, metrics, connector, views, LocalAuth.off(), onClosed);
    }

    /**
     * @param localAuth when in force, clients log in with the account's local password and the provider sees the
     *                  stored provider login instead
     */
    public ImapSession(String id, MailproxyConfig config, LocalTls localTls, ProxyMetrics metrics, UpstreamConnector connector,
                       AccountViews views, LocalAuth localAuth, Runnable onClosed) {
        this.localAuth = localAuth;
        this.views = views;
        this.onClosed = onClosed;
        this.id = id;
        this.config = config;
        this.settings = config.imap();
        this.localTls = localTls;
        this.metrics = metrics;
        this.connector = connector;
    }

    public String id() {
        return id;
    }

    public State state() {
        return state;
    }

    /** Sequence numbers and UIDs of the selected mailbox, as this session has seen them. */
    public MailboxState mailbox() {
        return mailbox;
    }

    // ---------------------------------------------------------------- state

    /** The one place where the session changes state. */
    private void transition(State next) {
        boolean allowed = switch (state) {
            case NOT_AUTHENTICATED -> next == State.CONNECTING_UPSTREAM || next == State.LOGOUT;
            case CONNECTING_UPSTREAM -> next == State.NOT_AUTHENTICATED || next == State.AUTHENTICATED || next == State.LOGOUT;
            case AUTHENTICATED, SELECTED -> next == State.AUTHENTICATED || next == State.SELECTED || next == State.IDLE
                    || next == State.LOGOUT;
            case IDLE -> next == State.AUTHENTICATED || next == State.SELECTED || next == State.LOGOUT;
            case LOGOUT -> next == State.LOGOUT;
        };
        if (!allowed) {
            throw new IllegalStateException("session " + id + ": " + state + " -> " + next);
        }
        if (next == State.IDLE) {
            beforeIdle = state;
        }
        state = next;
    }

    private boolean relaying() {
        return state == State.AUTHENTICATED || state == State.SELECTED || state == State.IDLE;
    }

    // ---------------------------------------------------------------- client channel

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        decoder = ctx.pipeline().get(ImapCommandDecoder.class);
        clientTls = ctx.pipeline().get(SslHandler.class) != null;
        openedAt = System.nanoTime();
        metrics.sessionOpened();
        log.info("imap session {} open from {}", id, client.remoteAddress());
        // RFC 9051 7.1.1: the greeting is the proxy's own, never the provider's (SECURITY.md 12).
        client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.ok(null, "CAPABILITY " + preLoginCapabilities(),
                "mailproxy ready")));
        client.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (mustQueue(msg)) {
            queued.add(msg);
            return;
        }
        dispatch(msg);
    }

    private boolean mustQueue(Object msg) {
        if (!queued.isEmpty() || expect == Expect.SWALLOW || viewHold) {
            return true;
        }
        if (state == State.CONNECTING_UPSTREAM) {
            return !(msg instanceof ContinuationLine && loginAwaitsClient);
        }
        return false;
    }

    private void drainQueued() {
        while (!queued.isEmpty() && expect != Expect.SWALLOW && !viewHold
                && (state != State.CONNECTING_UPSTREAM || (loginAwaitsClient && queued.peek() instanceof ContinuationLine))) {
            dispatch(queued.poll());
        }
        if (upstream != null) {
            upstream.flush();
        }
        readClient();
    }

    private void dispatch(Object msg) {
        try {
            if (closing || state == State.LOGOUT) {
                return;
            }
            if (msg instanceof CommandError e) {
                onCommandError(e);
            } else if (msg instanceof ContinuationLine line) {
                onContinuationLine(line);
                msg = null;
            } else if (relaying()) {
                relayFromClient(msg);
                msg = null;
            } else if (msg instanceof CommandLine line) {
                preAuthLine(line);
            } else if (msg instanceof LiteralChunk chunk) {
                preAuthLiteral(chunk);
            }
        } catch (RuntimeException e) {
            // STYLE.md 4: never echoed; the log has the context, the client a generic temporary failure.
            log.error("imap session {} failed in state {}", id, state, e);
            if (relaying()) {
                closeWithBye("[SERVERBUG] Internal proxy error");
            } else if (pending != null) {
                reply(pending.tag(), ImapError.serverBug());
                resetPreAuth();
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.flush();
        }
        readClient();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        readUpstream();
        readClient();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            log.info("imap session {} idle for {}, closing", id, settings.clientIdleTimeout());
            closeWithBye("Autologout; idle for too long");
        } else if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            metrics.clientTlsFailure();
            log.info("imap session {} client TLS handshake failed: {}", id, hs.cause().getMessage());
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        if (upstreamWatchdog != null) {
            upstreamWatchdog.cancel(false);
        }
        metrics.sessionClosed();
        log.info("imap session {} closed after {} s", id, (System.nanoTime() - openedAt) / 1_000_000_000L);
        eraseLogin();
        if (fetchView != null) {
            fetchView.close();
        }
        releaseSink();
        for (CapturedAppend c : new CapturedAppend[]{capture, pendingAppend}) {
            if (c != null) {
                c.close();
            }
        }
        closeAppendResources();
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        if (loginCommand != null) {
            loginCommand.discard();
        }
        if (upstream != null) {
            upstream.close();
        }
        onClosed.run();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.info("imap session {} client connection error: {}", id, cause.toString());
        closing = true;
        ctx.close();
    }

    /** Sends {@code * BYE text} and closes both sides; used for idle timeout, shutdown and fatal errors. */
    public void closeWithBye(String text) {
        closing = true;
        if (client.isActive() && !byeSent) {
            byeSent = true;
            client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.status(null, "BYE", null, text)))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            client.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void readClient() {
        if (closing || !client.isActive() || !queued.isEmpty() || expect == Expect.SWALLOW || viewHold) {
            return;
        }
        if (state == State.CONNECTING_UPSTREAM && !loginAwaitsClient) {
            return;
        }
        // A client that does not read its replies is not read either (pipelined NOOPs before login, say).
        if (inFlight.size() >= MAX_IN_FLIGHT || !client.isWritable() || (upstream != null && !upstream.isWritable())) {
            return;
        }
        client.read();
    }

    /**
     * Ends the session when the provider vanishes without closing: no byte for {@code imap.timeouts.upstream-reply}
     * while a command waits for its answer. IDLE is exempt (a provider may stay silent for its whole length), and so
     * is time the proxy itself holds the provider back because the client is not reading.
     */
    private void startUpstreamWatchdog() {
        long period = Math.max(250, settings.upstreamReplyTimeout().toMillis() / 4);
        upstreamQuietSince = System.nanoTime();
        upstreamWatchdog = client.eventLoop().scheduleAtFixedRate(this::checkUpstream, period, period,
                java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void checkUpstream() {
        if (closing || upstream == null || !upstream.isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (inFlight.isEmpty() || state == State.IDLE || !client.isWritable()) {
            upstreamQuietSince = now;
        } else if (now - upstreamQuietSince >= settings.upstreamReplyTimeout().toNanos()) {
            log.warn("imap session {} provider sent nothing for {} while a command waited, closing", id,
                    settings.upstreamReplyTimeout());
            closeWithBye("[UNAVAILABLE] The mail provider stopped answering");
        }
    }

    private void readUpstream() {
        if (upstream != null && upstream.isActive() && client.isWritable()) {
            upstream.read();
        }
    }

    private void reply(String tag, ImapError error) {
        client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.render(tag, error)));
    }

    private void replyOk(String tag, String code, String text) {
        client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.ok(tag, code, text)));
    }

    private void onCommandError(CommandError e) {
        metrics.protocolError();
        reply(e.tag(), e.error());
        if (e.fatal()) {
            closeWithBye("Protocol error");
        } else if (relaying() && current != null) {
            // The provider holds a partial command that cannot be completed or withdrawn.
            closeWithBye("Command cannot be completed");
        } else {
            resetPreAuth();
        }
    }

    // ---------------------------------------------------------------- before login

    private String preLoginCapabilities() {
        StringBuilder sb = new StringBuilder("IMAP4rev1 SASL-IR LITERAL- ID ENABLE IDLE");
        if (localTls.offersStartTls() && !clientTls) {
            sb.append(" STARTTLS");
        }
        if (loginNeedsTls()) {
            // RFC 9051 6.2.3 / 7.2.2: no password before TLS from a client that is not on this machine.
            sb.append(" LOGINDISABLED");
        } else if (localAuth.inForce()) {
            // The local password is a password: PLAIN (or LOGIN) carries it; tokens are the provider's business.
            sb.append(" AUTH=PLAIN");
        } else {
            for (String m : List.of("PLAIN", "XOAUTH2", "OAUTHBEARER")) {
                sb.append(" AUTH=").append(m);
            }
        }
        return sb.toString();
    }

    /**
     * True while a local password would cross a network in the clear: local authentication is in force, the client
     * is not on a loopback address, and TLS has not started.
     */
    private boolean loginNeedsTls() {
        if (!localAuth.inForce() || clientTls) {
            return false;
        }
        return !(client.remoteAddress() instanceof java.net.InetSocketAddress a) || a.getAddress() == null
                || !a.getAddress().isLoopbackAddress();
    }

    private void preAuthLine(CommandLine line) {
        if (line.isFirst()) {
            resetPreAuth();
            pending = new SmallCommand(line, settings.limits().maxCommandLine());
        } else if (preDiscard || pending == null) {
            // The rest of a command refused as too large: drop it, and any literal it still announces.
            if (line.isLast()) {
                resetPreAuth();
            } else if (line.literal().synchronizing() && decoder.abortPendingLiteral()) {
                resetPreAuth();
            }
            return;
        }
        switch (pending.addLine(line)) {
            case COMPLETE -> {
                SmallCommand cmd = pending;
                resetPreAuth();
                executePreAuth(cmd.tag(), cmd.verb(), cmd.segments());
            }
            case NEED_MORE -> {
                if (line.literal().synchronizing()) {
                    client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.continuation("Ready for literal data")));
                }
            }
            case TOO_BIG -> {
                reply(pending.tag(), ImapError.tooBig("Command too large before login"));
                if (line.literal().synchronizing() && decoder.abortPendingLiteral()) {
                    resetPreAuth();
                } else {
                    preDiscard = true;
                }
            }
        }
    }

    private void preAuthLiteral(LiteralChunk chunk) {
        if (!preDiscard && pending != null) {
            pending.addLiteral(chunk);
        }
    }

    private void resetPreAuth() {
        pending = null;
        preDiscard = false;
    }

    private void executePreAuth(String tag, ImapVerb verb, List<byte[]> segments) {
        if (verb.equals(ImapVerb.CAPABILITY)) {
            client.write(Unpooled.wrappedBuffer(ImapReplies.untagged("CAPABILITY " + preLoginCapabilities())));
            replyOk(tag, null, "CAPABILITY completed");
        } else if (verb.equals(ImapVerb.NOOP)) {
            replyOk(tag, null, "NOOP completed");
        } else if (verb.equals(ImapVerb.ID)) {
            // RFC 2971: the proxy identifies itself; the client's ID is not passed on before login.
            client.write(Unpooled.wrappedBuffer(ImapReplies.untagged("ID (\"name\" \"mailproxy\")")));
            replyOk(tag, null, "ID completed");
        } else if (verb.equals(ImapVerb.LOGOUT)) {
            transition(State.LOGOUT);
            client.write(Unpooled.wrappedBuffer(ImapReplies.status(null, "BYE", null, "mailproxy logging out")));
            byeSent = true;
            client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.ok(tag, null, "LOGOUT completed")))
                    .addListener(ChannelFutureListener.CLOSE);
        } else if (verb.equals(ImapVerb.STARTTLS)) {
            startTls(tag);
        } else if (verb.equals(ImapVerb.LOGIN)) {
            List<byte[]> args;
            try {
                args = ArgumentReader.parse(segments);
            } catch (IllegalArgumentException e) {
                reply(tag, ImapError.bad("Invalid LOGIN arguments"));
                return;
            }
            if (args.size() != 2) {
                reply(tag, ImapError.bad("LOGIN expects a user name and a password"));
                return;
            }
            startLogin(tag, new ClientLogin.Password(args.get(0), args.get(1)));
        } else if (verb.equals(ImapVerb.AUTHENTICATE)) {
            List<byte[]> args;
            try {
                args = ArgumentReader.parse(segments);
            } catch (IllegalArgumentException e) {
                reply(tag, ImapError.bad("Invalid AUTHENTICATE arguments"));
                return;
            }
            if (args.isEmpty() || args.size() > 2) {
                reply(tag, ImapError.bad("AUTHENTICATE expects a mechanism and an optional initial response"));
                return;
            }
            String mech = new String(args.get(0), StandardCharsets.US_ASCII).toUpperCase(Locale.ROOT);
            if (!SASL_MECHANISMS.contains(mech)) {
                reply(tag, ImapError.cannot("Unsupported authentication mechanism"));
                return;
            }
            if (args.size() == 2) {
                saslInitialResponse(tag, mech, new String(args.get(1), StandardCharsets.US_ASCII));
            } else {
                // RFC 9051 6.2.2: no initial response; ask for it with an empty challenge.
                saslTag = tag;
                saslMechanism = mech;
                decoder.armContinuationLine();
                client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.continuation("")));
            }
        } else {
            reply(tag, ImapError.bad("Command not valid before login"));
        }
    }

    private void saslInitialResponse(String tag, String mech, String base64) {
        if (base64.equals("*")) {
            reply(tag, ImapError.bad("Authentication cancelled"));
            return;
        }
        byte[] ir;
        try {
            ir = base64.equals("=") ? new byte[0] : Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            reply(tag, ImapError.bad("Invalid base64 in authentication response"));
            return;
        }
        startLogin(tag, new ClientLogin.Sasl(mech, ir));
    }

    private void startTls(String tag) {
        if (!localTls.offersStartTls() || clientTls) {
            reply(tag, ImapError.bad("STARTTLS not available"));
            return;
        }
        if (decoder.bufferedOctets() > 0) {
            // SECURITY.md 10 (CVE-2011-0411 class): octets pipelined behind STARTTLS would be read as if over TLS.
            metrics.protocolError();
            log.info("imap session {} sent data after STARTTLS; closing", id);
            closing = true;
            client.close();
            return;
        }
        client.writeAndFlush(Unpooled.wrappedBuffer(ImapReplies.ok(tag, null, "Begin TLS negotiation now")))
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess() || !client.isActive()) {
                        return;
                    }
                    SslHandler ssl = localTls.newHandler(client.alloc());
                    client.pipeline().addFirst("tls", ssl);
                    ssl.handshakeFuture().addListener((Future<Channel> hs) -> {
                        if (hs.isSuccess()) {
                            clientTls = true; // capabilities are computed afresh: STARTTLS is gone from them
                        }
                    });
                    client.read();
                });
    }

    private void startLogin(String tag, ClientLogin credentials) {
        if (localAuth.inForce()) {
            credentials = localLogin(tag, credentials);
            if (credentials == null) {
                return;
            }
        }
        Optional<Account> account = config.accountForLogin(credentials.loginName());
        if (account.isEmpty()) {
            credentials.erase();
            metrics.authFailure();
            log.info("imap session {} login for an unknown account refused", id);
            reply(tag, new ImapError(ImapError.Status.NO, "AUTHENTICATIONFAILED", "Unknown user for this proxy"));
            return;
        }
        login = credentials;
        loginClientTag = tag;
        transition(State.CONNECTING_UPSTREAM);
        Account a = account.get();
        this.account = a;
        log.info("imap session {} connecting to {} for {}", id, a.imapUpstream(), a.email());
        connector.connect(client.eventLoop(), a.imapUpstream(), new UpstreamHandler())
                .addListener((Future<UpstreamLink> f) -> {
                    if (f.isSuccess()) {
                        onUpstreamReady(f.getNow());
                    } else {
                        onUpstreamFailed(f.cause());
                    }
                });
    }

    private void onUpstreamFailed(Throwable cause) {
        UpstreamFailure failure = cause instanceof UpstreamFailure uf ? uf : UpstreamFailure.from(cause, "the provider");
        log.warn("imap session {} upstream unavailable ({}): {}{}", id, failure.outcome(), failure.getMessage(),
                failure.getCause() == null ? "" : " (" + failure.getCause() + ")");
        eraseLogin();
        if (closing) {
            return;
        }
        transition(State.NOT_AUTHENTICATED);
        reply(loginClientTag, ImapError.unavailable("Cannot reach the mail provider: " + failure.getMessage()));
        loginClientTag = null;
        drainQueued();
    }

    private void onUpstreamReady(UpstreamLink link) {
        upstream = link.channel();
        if (closing) {
            upstream.close();
            eraseLogin();
            return;
        }
        startUpstreamWatchdog();
        tags = link.tags();
        upstreamCaps = link.capabilities();
        loginTag = tags.next();
        loginCommand = UpstreamLogin.command(loginTag, login, upstreamCaps);
        eraseLogin();
        if (loginCommand == null) {
            transition(State.NOT_AUTHENTICATED);
            reply(loginClientTag, ImapError.cannot("The mail provider does not support this login method"));
            upstream.close();
            upstream = null;
            drainQueued();
            return;
        }
        loginCommand.writeUntilContinuation(upstream);
        readUpstream();
    }

    /**
     * Local authentication: checks the client's local password and, when it is right, returns the stored provider
     * login to send upstream in its place; otherwise answers the client and returns null. Nothing has reached the
     * provider yet either way. The client's credentials are erased here.
     */
    private ClientLogin localLogin(String tag, ClientLogin credentials) {
        if (loginNeedsTls()) {
            credentials.erase();
            reply(tag, new ImapError(ImapError.Status.NO, "PRIVACYREQUIRED", "Use STARTTLS before logging in"));
            return null;
        }
        ClientLogin.Password password = credentials instanceof ClientLogin.Sasl sasl ? sasl.asPassword()
                : (ClientLogin.Password) credentials;
        if (password == null) {
            credentials.erase();
            reply(tag, ImapError.cannot("Log in with LOGIN or AUTHENTICATE PLAIN and the account's mailproxy password"));
            return null;
        }
        Optional<Account> named;
        try {
            named = localAuth.authenticate(password.loginName(), password.password());
        } catch (java.io.IOException e) {
            log.warn("imap session {} cannot read local passwords: {}", id, e.getMessage());
            reply(tag, ImapError.unavailable("mailproxy cannot check passwords now"));
            return null;
        } finally {
            credentials.erase();
            password.erase();
        }
        if (named.isEmpty()) {
            metrics.authFailure();
            log.info("imap session {} local login refused", id);
            if (++localAuthFailures >= MAX_LOCAL_AUTH_FAILURES) {
                closeWithBye("Too many failed logins");
                return null;
            }
            reply(tag, new ImapError(ImapError.Status.NO, "AUTHENTICATIONFAILED", "Invalid credentials"));
            return null;
        }
        Account a = named.get();
        try {
            ProviderLogin provider = localAuth.providerLogin(a);
            log.info("imap session {} local login for {}", id, a.email());
            return new ClientLogin.Password(provider.login().getBytes(StandardCharsets.UTF_8), provider.password());
        } catch (LocalAuthException e) {
            log.warn("imap session {}: {}", id, e.getMessage());
            reply(tag, ImapError.unavailable(e.reason() == LocalAuthException.Reason.KEY_LOCKED
                    ? "The account's key is locked; run mailproxy keys unlock " + a.email()
                    : "mailproxy has no usable provider password for " + a.email()));
            return null;
        }
    }

    private void eraseLogin() {
        if (login != null) {
            login.erase();
            login = null;
        }
    }

    /** Upstream responses while the login is in progress. */
    private void loginResponse(ResponseLine line) {
        if (line.kind() == ResponseLine.Kind.CONTINUATION) {
            if (!loginCommand.isDone()) {
                loginCommand.writeUntilContinuation(upstream);
            } else {
                // A SASL challenge (e.g. an XOAUTH2 error): the client answers it (RFC 9051 6.2.2).
                loginAwaitsClient = true;
                decoder.armContinuationLine();
                client.writeAndFlush(line.retain());
                drainQueued();
            }
            return;
        }
        if (line.kind() == ResponseLine.Kind.UNTAGGED) {
            if (line.name().equals("CAPABILITY")) {
                loginCapabilities = UpstreamConnector.atoms(line.tokens());
            }
            return;
        }
        if (line.tag().equals(loginTag)) {
            loginAwaitsClient = false;
            loginCommand.discard();
            if (line.name().equals("OK")) {
                List<String> caps = UpstreamConnector.capabilityCode(line.code());
                if (caps != null) {
                    finishLogin(caps);
                } else {
                    capabilityTag = tags.next();
                    loginCapabilities = null;
                    upstream.writeAndFlush(UpstreamLogin.line(capabilityTag, ImapVerb.CAPABILITY, capabilityTag + " CAPABILITY"));
                }
            } else {
                metrics.authFailure();
                if (localAuth.inForce()) {
                    // The client's local password was right; the stored provider login is what failed, which only
                    // the operator can mend. Relaying the provider's NO would have the client ask its user instead.
                    log.warn("imap session {} the provider refused the stored login for {}; run `mailproxy accounts "
                            + "set-provider-password {}`", id, account.email(), account.email());
                    reply(loginClientTag, ImapError.unavailable("The provider refused mailproxy's stored login for "
                            + account.email()));
                } else {
                    log.info("imap session {} login refused by the provider", id);
                    String code = UpstreamConnector.capabilityCode(line.code()) != null ? null : line.code();
                    client.writeAndFlush(retag(line.retain(), loginClientTag, code));
                }
                upstream.close();
                upstream = null;
                loginClientTag = null;
                transition(State.NOT_AUTHENTICATED);
                drainQueued();
            }
        } else if (line.tag().equals(capabilityTag)) {
            if (line.name().equals("OK") && loginCapabilities != null) {
                finishLogin(loginCapabilities);
            } else {
                finishLogin(upstreamCaps.list());
            }
        }
    }

    private void finishLogin(List<String> caps) {
        upstreamCaps = new Capabilities(caps);
        transition(State.AUTHENTICATED);
        startView();
        log.info("imap session {} logged in", id);
        replyOk(loginClientTag, "CAPABILITY " + String.join(" ", CapabilityFilter.forClient(caps)), "Logged in");
        loginClientTag = null;
        loginCommand = null;
        drainQueued();
        readUpstream();
    }

    private void onContinuationLine(ContinuationLine line) {
        if (saslTag != null) {
            String tag = saslTag;
            String mech = saslMechanism;
            saslTag = null;
            saslMechanism = null;
            String text = line.content().toString(StandardCharsets.US_ASCII).trim();
            line.release();
            saslInitialResponse(tag, mech, text.isEmpty() ? "=" : text);
        } else if (state == State.CONNECTING_UPSTREAM && loginAwaitsClient && upstream != null) {
            loginAwaitsClient = false;
            upstream.writeAndFlush(line);
        } else if (relaying() && upstream != null) {
            upstream.writeAndFlush(line);
        } else {
            line.release();
        }
    }

    // ---------------------------------------------------------------- relay, client to upstream

    private void relayFromClient(Object msg) {
        if (capture != null) {
            captureFromClient(msg);
            return;
        }
        if (searchCapture != null) {
            searchFromClient(msg);
            return;
        }
        if (msg instanceof LiteralChunk chunk) {
            if (discardCurrent) {
                chunk.release();
            } else {
                writeUpstream(chunk);
            }
            return;
        }
        if (!(msg instanceof CommandLine line)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!line.isFirst()) {
            if (discardCurrent) {
                if (line.isLast()) {
                    discardCurrent = false;
                }
                abortLiteralIfNeeded(line);
                line.release();
                return;
            }
            forwardPiece(line);
            return;
        }
        ImapVerb verb = line.verb();
        ImapError refusal = null;
        if (verb.equals(ImapVerb.STARTTLS)) {
            refusal = ImapError.bad("STARTTLS is not available after login");
        } else if (verb.equals(ImapVerb.COMPRESS)) {
            refusal = ImapError.cannot("COMPRESS is not available through mailproxy");
        } else if (verb.equals(ImapVerb.LOGIN) || verb.equals(ImapVerb.AUTHENTICATE)) {
            refusal = ImapError.bad("Already logged in");
        } else if (unadvertised(verb, line) != null) {
            refusal = ImapError.bad(unadvertised(verb, line) + " is not available through mailproxy");
        }
        if (refusal != null) {
            reply(line.tag(), refusal);
            if (!line.isLast()) {
                discardCurrent = true;
                abortLiteralIfNeeded(line);
            }
            line.release();
            return;
        }
        if (verb.equals(ImapVerb.SELECT) || verb.equals(ImapVerb.EXAMINE)) {
            mailbox.reset();
            if (fetchView != null) {
                fetchView.unselected();
            }
            selecting = line.isLast() ? mailboxArgument(line.arguments()) : null;
            selectingUidValidity = 0;
        }
        if (verb.equals(ImapVerb.APPEND) && startCapture(line)) {
            line.release();
            return;
        }
        if (fetchView != null && !line.isLast() && startSearchCapture(line)) {
            line.release();
            return;
        }
        SearchCriteria search = fetchView != null && line.isLast() ? viewedSearch(line) : null;
        if (search != null) {
            if (!inFlight.isEmpty()) {
                viewHold = true;
                queued.addFirst(line);
                return;
            }
            viewHold = true;
            boolean uid = verb.equals(ImapVerb.UID);
            fetchView.search(search.contentKeys(), (viewUids, matches) -> {
                viewHold = false;
                if (closing) {
                    line.release();
                    return;
                }
                String proxyTag = tags.next();
                inFlight.put(proxyTag, new InFlight(line.tag(), proxyTag, verb));
                upstreamQuietSince = System.nanoTime();
                String text = proxyTag + (uid ? " UID SEARCH " : " SEARCH ") + search.rewrite(viewUids, matches);
                line.release();
                writeUpstream(UpstreamLogin.line(proxyTag, verb, text));
                drainQueued();
            });
            return;
        }
        FetchRequest fetch = null;
        if (fetchView != null && line.isLast() && (verb.equals(ImapVerb.FETCH) || verb.equals(ImapVerb.UID))) {
            fetch = viewedFetch(line);
            if (fetch != null && !fetchView.needsPreparation(fetch)) {
                sendClientCommand(line, fetch);
                line.release();
                return;
            }
            if (fetch != null && !inFlight.isEmpty()) {
                // answered in order: the view prepares only once nothing else is outstanding upstream
                viewHold = true;
                queued.addFirst(line);
                return;
            }
            if (fetch != null) {
                FetchRequest request = fetch;
                viewHold = true;
                fetchView.prepare(request, () -> {
                    viewHold = false;
                    sendClientCommand(line, request);
                    line.release();
                    drainQueued();
                });
                return;
            }
        }
        sendClientCommand(line, fetch);
        line.release();
    }

    /**
     * SORT and THREAD (also under UID) are not advertised (CapabilityFilter): the provider would sort and thread
     * encrypted mail by its outer, placeholder headers, so a client that sends them anyway is refused rather than
     * answered wrongly.
     */
    private static String unadvertised(ImapVerb verb, CommandLine line) {
        String name = verb.name();
        if (verb.equals(ImapVerb.UID)) {
            String args = line.arguments();
            int sp = args.indexOf(' ');
            name = (sp < 0 ? args : args.substring(0, sp)).toUpperCase(Locale.ROOT);
        }
        return name.equals("SORT") || name.equals("THREAD") ? name : null;
    }

    /**
     * The criteria of a SEARCH that names content keys while a mailbox is selected: the view answers those keys for
     * encrypted messages. Null for any other command, and for criteria the view cannot read (the provider judges
     * them as sent).
     */
    private SearchCriteria viewedSearch(CommandLine line) {
        if (state != State.SELECTED || !fetchView.isSelected()) {
            return null;
        }
        String args = line.arguments();
        if (line.verb().equals(ImapVerb.UID)) {
            if (!args.regionMatches(true, 0, "SEARCH ", 0, 7)) {
                return null;
            }
            args = args.substring(7);
        } else if (!line.verb().name().equals("SEARCH")) {
            return null;
        }
        try {
            SearchCriteria c = SearchCriteria.parse(args);
            return c.contentKeys().isEmpty() ? null : c;
        } catch (SearchCriteria.Unparsed e) {
            log.debug("imap session {} search criteria relayed as sent: {}", id, e.getMessage());
            return null;
        }
    }

    /**
     * A SEARCH whose criteria hold a literal (non-ASCII text, say) is taken whole, the proxy answering the client's
     * "+" itself, when the provider takes non-synchronizing literals so the criteria can go on in one piece.
     */
    private boolean startSearchCapture(CommandLine line) {
        if (state != State.SELECTED || !fetchView.isSelected() || line.literal() == null
                || !upstreamCaps.acceptsNonSyncLiteral(Math.min(line.literal().size(), 4096))) {
            return false;
        }
        boolean uid = line.verb().equals(ImapVerb.UID);
        String args = line.arguments();
        if (uid) {
            if (!args.regionMatches(true, 0, "SEARCH ", 0, 7)) {
                return false;
            }
            args = args.substring(7);
        } else if (!line.verb().name().equals("SEARCH")) {
            return false;
        }
        if (line.literal().size() > SearchCapture.MAX_BYTES) {
            return false;
        }
        searchCapture = new SearchCapture(line.tag(), line.verb(), uid);
        searchCapture.add(args);
        searchCapture.literal = new java.io.ByteArrayOutputStream();
        if (line.literal().synchronizing()) {
            client.writeAndFlush(Unpooled.copiedBuffer("+ Ready\r\n", StandardCharsets.US_ASCII));
        }
        return true;
    }

    private void searchFromClient(Object msg) {
        SearchCapture c = searchCapture;
        if (msg instanceof LiteralChunk chunk) {
            try {
                c.size += chunk.content().readableBytes();
                if (c.size <= SearchCapture.MAX_BYTES) {
                    chunk.content().readBytes(c.literal, chunk.content().readableBytes());
                }
                if (chunk.isLast()) {
                    c.parts.add(c.literal.toByteArray());
                    c.literal = null;
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                chunk.release();
            }
            return;
        }
        CommandLine line = (CommandLine) msg;
        try {
            boolean fits = c.add(line.content().toString(StandardCharsets.UTF_8));
            if (line.literal() != null) {
                if (!fits || line.literal().size() > SearchCapture.MAX_BYTES - c.size) {
                    searchCapture = null;
                    reply(c.clientTag, ImapError.bad("Search criteria too long"));
                    discardCurrent = true;
                    abortLiteralIfNeeded(line);
                    return;
                }
                c.literal = new java.io.ByteArrayOutputStream();
                if (line.literal().synchronizing()) {
                    client.writeAndFlush(Unpooled.copiedBuffer("+ Ready\r\n", StandardCharsets.US_ASCII));
                }
                return;
            }
            searchCapture = null;
            if (!fits) {
                reply(c.clientTag, ImapError.bad("Search criteria too long"));
                return;
            }
            viewHold = true;
            if (!inFlight.isEmpty()) {
                pendingSearch = c;
                return;
            }
            searchCaptured(c);
        } finally {
            line.release();
        }
    }

    /** A whole SEARCH with literals: its content keys answered by the view, then sent upstream in one piece. */
    private void searchCaptured(SearchCapture c) {
        SearchCriteria criteria;
        try {
            criteria = SearchCriteria.parse(c.parts);
        } catch (SearchCriteria.Unparsed e) {
            log.debug("imap session {} search criteria relayed as sent: {}", id, e.getMessage());
            sendSearch(c, c.parts);
            return;
        }
        if (criteria.contentKeys().isEmpty()) {
            sendSearch(c, c.parts);
            return;
        }
        fetchView.search(criteria.contentKeys(), (viewUids, matches) ->
                sendSearch(c, criteria.rewriteParts(viewUids, matches)));
    }

    /** Sends SEARCH criteria in pieces, every literal non-synchronizing (the provider takes them). */
    private void sendSearch(SearchCapture c, List<Object> parts) {
        viewHold = false;
        if (closing) {
            return;
        }
        String proxyTag = tags.next();
        inFlight.put(proxyTag, new InFlight(c.clientTag, proxyTag, c.verb));
        upstreamQuietSince = System.nanoTime();
        StringBuilder text = new StringBuilder(proxyTag + (c.uid ? " UID SEARCH " : " SEARCH "));
        boolean first = true;
        for (int i = 0; i < parts.size(); i++) {
            Object part = parts.get(i);
            if (part instanceof String t) {
                text.append(t);
                continue;
            }
            byte[] literal = (byte[]) part;
            if (!text.isEmpty() && text.charAt(text.length() - 1) != ' ' && text.charAt(text.length() - 1) != '(') {
                text.append(' ');
            }
            writeUpstream(new CommandLine(proxyTag, c.verb, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), first,
                    LiteralSpec.nonSync(literal.length)));
            writeUpstream(new LiteralChunk(Unpooled.wrappedBuffer(literal), true));
            text.setLength(0);
            first = false;
        }
        writeUpstream(new CommandLine(proxyTag, c.verb, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), first, null));
        drainQueued();
    }

    /** The client's FETCH as the view reads it, or null when it is not one the view needs to prepare. */
    private FetchRequest viewedFetch(CommandLine line) {
        boolean uid = line.verb().equals(ImapVerb.UID);
        try {
            FetchRequest r = FetchRequest.parse(line.arguments(), uid);
            return fetchView.wants(r) ? r : null;
        } catch (FetchRequest.Unparsed e) {
            return null; // not a FETCH (UID STORE...), or one the provider will refuse: relayed as it is
        }
    }

    /** Relays a client command's first piece under a proxy tag; does not consume {@code line}. */
    private void sendClientCommand(CommandLine line, FetchRequest fetch) {
        ImapVerb verb = line.verb();
        String proxyTag = tags.next();
        InFlight f = new InFlight(line.tag(), proxyTag, verb, fetch);
        if (fetchView != null && line.isLast()) {
            String destination = copyDestination(verb, line.arguments());
            if (destination != null) {
                copyDestination = destination;
            }
        }
        String withoutContent = fetch == null ? null : fetchView.activate(fetch);
        if (inFlight.isEmpty()) {
            upstreamQuietSince = System.nanoTime();
        }
        inFlight.put(proxyTag, f);
        current = line.isLast() ? null : f;
        CommandLine out = withoutContent != null
                ? UpstreamLogin.line(proxyTag, verb, proxyTag + " " + withoutContent) : line.withTag(proxyTag);
        if (verb.equals(ImapVerb.IDLE) && out.isLast()) {
            transition(State.IDLE);
            expect = Expect.RELAY_AND_ARM;
        }
        forwardPiece(out);
    }

    /** A refused or discarded piece announced a synchronizing literal that will now never get its "+". */
    private void abortLiteralIfNeeded(CommandLine line) {
        if (line.literal() != null && line.literal().synchronizing() && decoder.abortPendingLiteral()) {
            discardCurrent = false;
        }
    }

    private void forwardPiece(CommandLine line) {
        LiteralSpec spec = line.literal();
        CommandLine out = line;
        if (spec != null) {
            if (spec.synchronizing()) {
                expect = Expect.RELAY;
            } else if (!upstreamCaps.acceptsNonSyncLiteral(spec.size())) {
                // RFC 7888: the provider lacks LITERAL+/LITERAL-; wait for its "+" ourselves and hold the client.
                out = line.withLiteral(spec.asSynchronizing());
                line.release();
                expect = Expect.SWALLOW;
            }
        } else {
            current = null;
        }
        writeUpstream(out);
        if (expect == Expect.SWALLOW) {
            upstream.flush();
        }
    }

    private void writeUpstream(Object msg) {
        if (upstream == null || !upstream.isActive()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof io.netty.buffer.ByteBufHolder h) {
            metrics.bytesToUpstream(h.content().readableBytes());
        }
        upstream.write(msg).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    // ---------------------------------------------------------------- relay, upstream to client

    /** The handler that takes the setup handler's place on the upstream channel. */
    private final class UpstreamHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            upstreamQuietSince = System.nanoTime();
            try {
                onUpstream(msg);
            } catch (RuntimeException e) {
                ReferenceCountUtil.release(msg);
                log.error("imap session {} failed relaying a response in state {}", id, state, e);
                closeWithBye("[SERVERBUG] Internal proxy error");
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            client.flush();
            readUpstream();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            readClient();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != upstream) {
                return;
            }
            if (state == State.CONNECTING_UPSTREAM && !closing) {
                log.warn("imap session {} provider closed the connection during login", id);
                transition(State.NOT_AUTHENTICATED);
                upstream = null;
                if (loginCommand != null) {
                    loginCommand.discard();
                }
                reply(loginClientTag, ImapError.unavailable("The mail provider closed the connection"));
                drainQueued();
                return;
            }
            if (!closing && client.isActive()) {
                log.info("imap session {} provider closed the connection", id);
                closeWithBye("Connection to the mail provider lost");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("imap session {} upstream error: {}", id, cause.toString());
            ctx.close();
        }
    }

    private void onUpstream(Object msg) {
        if (msg instanceof ResponseError e) {
            metrics.protocolError();
            log.warn("imap session {} provider broke the protocol: {}", id, e.reason());
            closeWithBye("The mail provider sent an invalid response");
            return;
        }
        if (state == State.CONNECTING_UPSTREAM) {
            try {
                if (msg instanceof ResponseLine line && line.isFirst()) {
                    loginResponse(line);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (!relaying() || closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (responseSink != null) {
            java.util.function.Consumer<Object> sink = responseSink;
            if (msg instanceof ResponseLine l && l.isLast()) {
                responseSink = null;
            }
            sink.accept(msg);
            return;
        }
        if (msg instanceof LiteralChunk chunk) {
            writeClient(chunk);
            return;
        }
        ResponseLine line = (ResponseLine) msg;
        if (!line.isFirst()) {
            writeClient(line);
            return;
        }
        switch (line.kind()) {
            case CONTINUATION -> onContinuation(line);
            case TAGGED -> onTagged(line);
            case UNTAGGED -> onUntagged(line);
        }
    }

    private void onContinuation(ResponseLine line) {
        Expect e = expect;
        expect = Expect.NONE;
        switch (e) {
            case RELAY -> writeClient(line);
            case RELAY_AND_ARM -> {
                decoder.armContinuationLine();
                writeClient(line);
            }
            case SWALLOW -> {
                line.release();
                drainQueued();
            }
            case APPEND -> {
                line.release();
                sendAppendLiteral();
            }
            case NONE -> {
                log.debug("imap session {} unexpected continuation request from the provider", id);
                line.release();
            }
        }
    }

    private void onTagged(ResponseLine line) {
        if (fetchView != null && fetchView.ownsTag(line.tag())) {
            fetchView.onOwnTagged(line);
            return;
        }
        if (line.tag().equals(discoveryTag)) {
            discoveryTag = null;
            line.release();
            appendFolders.discovered();
            tryPendingAppend();
            return;
        }
        InFlight f = inFlight.remove(line.tag());
        if (f != null && f == appendInFlight) {
            appendDone();
        }
        if (f == null) {
            log.debug("imap session {} tagged response for an unknown tag", id);
            line.release();
            return;
        }
        boolean ok = line.name().equals("OK");
        if (current == f) {
            // Completed while the client was still sending it (e.g. APPEND refused with TRYCREATE before "+").
            current = null;
            Expect e = expect;
            if (e == Expect.RELAY || e == Expect.SWALLOW) {
                expect = Expect.NONE;
                if (!(e == Expect.RELAY && decoder.abortPendingLiteral())) {
                    discardCurrent = true;
                }
            }
        } else if (f.verb().equals(ImapVerb.IDLE) && expect == Expect.RELAY_AND_ARM) {
            expect = Expect.NONE;
        }
        ImapVerb v = f.verb();
        if (f.fetch() != null && fetchView != null) {
            fetchView.deactivate();
        }
        if (fetchView != null && ok) {
            copyUid(line.code());
        }
        if ((v.equals(ImapVerb.SELECT) || v.equals(ImapVerb.EXAMINE)) && ok && fetchView != null) {
            fetchView.selected(selecting, selectingUidValidity);
        }
        if ((v.equals(ImapVerb.SELECT) || v.equals(ImapVerb.EXAMINE)) && state == State.IDLE) {
            beforeIdle = ok ? State.SELECTED : State.AUTHENTICATED;
        } else if (v.equals(ImapVerb.SELECT) || v.equals(ImapVerb.EXAMINE)) {
            if (state != State.LOGOUT) {
                transition(ok ? State.SELECTED : State.AUTHENTICATED);
            }
        } else if ((v.equals(ImapVerb.CLOSE) || v.equals(ImapVerb.UNSELECT)) && ok) {
            mailbox.reset();
            transition(State.AUTHENTICATED);
        } else if (v.equals(ImapVerb.IDLE) && state == State.IDLE) {
            transition(beforeIdle);
        } else if (v.equals(ImapVerb.LOGOUT)) {
            transition(State.LOGOUT);
        }
        ResponseLine out = retag(line, f.clientTag(), filterCode(line.code()));
        if (state == State.LOGOUT) {
            closing = true;
            byeSent = true;
            client.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
            upstream.close();
            return;
        }
        writeClient(out);
        if (pendingSearch != null && inFlight.isEmpty()) {
            SearchCapture c = pendingSearch;
            pendingSearch = null;
            searchCaptured(c);
        } else if (pendingAppend != null) {
            tryPendingAppend();
        } else if (viewHold && inFlight.isEmpty() && !fetchView.preparing() && appendInFlight == null) {
            viewHold = false; // the held FETCH may now be prepared
        }
        drainQueued();
    }

    private void onUntagged(ResponseLine line) {
        if (fetchView != null && line.isFirst()) {
            followRemovals(line);
        }
        MailboxUpdates.apply(mailbox, line);
        if (appendFolders != null && line.isFirst() && (line.name().equals("LIST") || line.name().equals("XLIST")
                || line.name().equals("LSUB"))) {
            observeList(line);
            if (discoveryTag != null && !line.name().equals("LSUB")) {
                line.release(); // the proxy's own LIST
                return;
            }
        }
        if (fetchView != null && line.name().equals("FETCH")) {
            java.util.function.Consumer<Object> sink = fetchView.sinkFor(line);
            if (sink != null) {
                if (!line.isLast()) {
                    responseSink = sink;
                }
                sink.accept(line);
                return;
            }
        }
        if (line.isStatus() && line.code() != null && line.code().regionMatches(true, 0, "UIDVALIDITY ", 0, 12)) {
            try {
                selectingUidValidity = Long.parseLong(line.code().substring(12).trim());
            } catch (NumberFormatException e) {
                selectingUidValidity = 0;
            }
        }
        if (line.name().equals("CAPABILITY") && line.isLast()) {
            List<String> caps = UpstreamConnector.atoms(line.tokens());
            upstreamCaps = new Capabilities(caps);
            line.release();
            writeClient(Unpooled.wrappedBuffer(ImapReplies.untagged(
                    "CAPABILITY " + String.join(" ", CapabilityFilter.forClient(caps)))));
            return;
        }
        if (line.name().equals("BYE")) {
            byeSent = true;
        }
        String code = filterCode(line.code());
        if (line.isStatus() && code != line.code()) {
            ResponseLine out = line.withCode(code);
            line.release();
            writeClient(out);
            return;
        }
        // Data responses (FETCH, EXISTS, EXPUNGE, LIST, SEARCH...) pass untouched; FETCH rewriting hooks in here.
        writeClient(line);
    }

    /**
     * SECURITY.md 20: a {@code [CAPABILITY ...]} code is filtered like a CAPABILITY response (and remembered);
     * any other code is returned as the same instance.
     */
    private String filterCode(String code) {
        List<String> caps = UpstreamConnector.capabilityCode(code);
        if (caps == null) {
            return code;
        }
        upstreamCaps = new Capabilities(caps);
        return "CAPABILITY " + String.join(" ", CapabilityFilter.forClient(caps));
    }

    /** A status response under the client's tag with {@code code}; consumes {@code line}. */
    private static ResponseLine retag(ResponseLine line, String clientTag, String code) {
        ResponseLine coded = code == line.code() ? line : line.withCode(code);
        ResponseLine out = coded.withTag(clientTag);
        if (coded != line) {
            coded.release();
        }
        line.release();
        return out;
    }

    // ---------------------------------------------------------------- decrypted view

    /** After login: the view of the account's messages, when its key is unlocked. */
    private void startView() {
        if (views == null || account == null) {
            return;
        }
        Optional<DecryptedMessages> d = views.forAccount(account.email());
        if (d.isEmpty()) {
            log.info("imap session {} relays messages as stored (no unlocked key for the account)", id);
            return;
        }
        appendFolders = new AppendFolders(settings.encryptAppends());
        fetchView = new FetchView(id, d.get(), views.workers(), new FetchView.Link() {
            @Override
            public String nextTag() {
                return tags.next();
            }

            @Override
            public void sendUpstream(String text) {
                if (upstream != null && upstream.isActive()) {
                    upstream.writeAndFlush(UpstreamLogin.line(text.substring(0, text.indexOf(' ')), ImapVerb.FETCH, text));
                }
            }

            @Override
            public io.netty.channel.ChannelFuture toClient(Object msg) {
                return writeClient(msg);
            }

            @Override
            public MailboxState mailbox() {
                return mailbox;
            }

            @Override
            public io.netty.util.concurrent.EventExecutor loop() {
                return client.eventLoop();
            }

            @Override
            public void fail(String why) {
                closeWithBye(why);
            }
        }, settings.limits().maxLiteral());
    }

    // ---------------------------------------------------------------- APPEND to mailboxes stored encrypted

    /**
     * Takes the message of an APPEND whole when its mailbox is (or may be, before the mailboxes are known) one whose
     * mail is stored encrypted: the proxy answers the client's "+" itself and spools the literal.
     */
    private boolean startCapture(CommandLine line) {
        if (appendFolders == null || line.literal() == null) {
            return false;
        }
        CapturedAppend.Arguments args = CapturedAppend.Arguments.parse(line.arguments());
        if (args == null || !(appendFolders.needsDiscovery() || appendFolders.encrypts(args.mailbox()))) {
            return false;
        }
        capture = new CapturedAppend(line.tag(), args, settings.limits().maxLiteral());
        if (line.literal().synchronizing()) {
            client.writeAndFlush(Unpooled.copiedBuffer("+ Ready for the message\r\n", StandardCharsets.US_ASCII));
        }
        return true;
    }

    private void captureFromClient(Object msg) {
        if (msg instanceof LiteralChunk chunk) {
            try {
                capture.write(chunk.content());
            } finally {
                chunk.release();
            }
            return;
        }
        CommandLine line = (CommandLine) msg;
        CapturedAppend c = capture;
        try {
            if (line.literal() != null) {
                // a second message in one APPEND (MULTIAPPEND, not advertised)
                capture = null;
                c.close();
                reply(c.clientTag, ImapError.bad("MULTIAPPEND is not available through mailproxy"));
                if (!line.isLast()) {
                    discardCurrent = true;
                    abortLiteralIfNeeded(line);
                }
                return;
            }
            capture = null;
            if (!c.finish()) {
                c.close();
                reply(c.clientTag, new ImapError(ImapError.Status.NO, "TOOBIG", "The message is too large"));
                return;
            }
            pendingAppend = c;
            viewHold = true;
            tryPendingAppend();
        } finally {
            line.release();
        }
    }

    /** Sends the captured APPEND once nothing else is outstanding, learning the mailboxes' roles first if needed. */
    private void tryPendingAppend() {
        CapturedAppend c = pendingAppend;
        if (c == null || appendEncrypting || discoveryTag != null || !inFlight.isEmpty() || appendInFlight != null
                || (fetchView != null && fetchView.preparing())) {
            return;
        }
        if (appendFolders.needsDiscovery()) {
            Optional<String> command = AppendFolders.discoveryCommand(upstreamCaps.list());
            if (command.isPresent()) {
                discoveryTag = tags.next();
                upstream.writeAndFlush(UpstreamLogin.line(discoveryTag, ImapVerb.valueOf("LIST"),
                        discoveryTag + " " + command.get()));
                return;
            }
            appendFolders.discovered();
        }
        if (!appendFolders.encrypts(c.arguments.mailbox())) {
            pendingAppend = null;
            sendAppend(c, c.spool(), c);
            return;
        }
        Optional<DraftEncryptor.OwnKey> key = views.ownKey(account.email());
        if (key.isEmpty()) {
            // fail closed: a mailbox whose mail is stored encrypted never gets it in the clear
            pendingAppend = null;
            c.close();
            log.warn("imap session {} APPEND to a mailbox stored encrypted refused: the account has no key", id);
            reply(c.clientTag, ImapError.cannot("This mailbox is stored encrypted and the account has no key"));
            releaseViewHold();
            return;
        }
        appendEncrypting = true;
        String subject = account.policy().obscuredSubject();
        views.workers().execute(() -> {
            DraftEncryptor.Result result = null;
            Exception failure = null;
            try (java.io.InputStream in = c.spool().openStream()) {
                result = views.drafts().encrypt(in, key.get(), subject);
            } catch (Exception e) {
                failure = e;
            }
            DraftEncryptor.Result r = result;
            Exception f = failure;
            client.eventLoop().execute(() -> {
                appendEncrypting = false;
                pendingAppend = null;
                c.close();
                if (closing) {
                    closeQuietly(r);
                    return;
                }
                if (r == null) {
                    log.warn("imap session {} could not encrypt an APPENDed message: {}", id, f.toString());
                    reply(c.clientTag, f instanceof org.mailproxy.core.crypto.openpgp.spool.SpoolOverflowException
                            ? new ImapError(ImapError.Status.NO, "TOOBIG", "The message is too large")
                            : ImapError.cannot("The message could not be encrypted; nothing was stored"));
                    releaseViewHold();
                    return;
                }
                sendAppend(c, r.message(), r);
            });
        });
    }

    /** {@code APPEND mailbox [flags] [date] {size}} upstream under a proxy tag; the literal follows its "+". */
    private void sendAppend(CapturedAppend c, Spool message, AutoCloseable resources) {
        String proxyTag = tags.next();
        InFlight f = new InFlight(c.clientTag, proxyTag, ImapVerb.APPEND);
        inFlight.put(proxyTag, f);
        upstreamQuietSince = System.nanoTime();
        appendInFlight = f;
        appendLiteral = message;
        appendResources = resources;
        long size = message.size();
        boolean nonSync = upstreamCaps.acceptsNonSyncLiteral(size);
        String text = proxyTag + " APPEND " + c.arguments.mailboxToken()
                + (c.arguments.rest().isEmpty() ? "" : " " + c.arguments.rest()) + " ";
        upstream.write(new CommandLine(proxyTag, ImapVerb.APPEND, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8),
                true, nonSync ? LiteralSpec.nonSync(size) : LiteralSpec.sync(size)));
        if (nonSync) {
            sendAppendLiteral();
        } else {
            expect = Expect.APPEND;
            upstream.flush();
        }
    }

    private void sendAppendLiteral() {
        Spool message = appendLiteral;
        if (message == null || upstream == null) {
            return;
        }
        try {
            upstream.write(new EntryLiteral(message.openStream(), message.size()));
        } catch (java.io.IOException e) {
            log.warn("imap session {} could not read a spooled APPEND: {}", id, e.toString());
            closeWithBye("[SERVERBUG] Internal proxy error");
            return;
        }
        upstream.writeAndFlush(new CommandLine(appendInFlight.proxyTag(), ImapVerb.APPEND, Unpooled.EMPTY_BUFFER,
                false, null));
        releaseViewHold();
    }

    /** The provider answered the APPEND (before its "+", when it refused at once). */
    private void appendDone() {
        if (expect == Expect.APPEND) {
            // refused before its "+": the literal is never sent
            expect = Expect.NONE;
            ImapWireEncoder encoder = upstream.pipeline().get(ImapWireEncoder.class);
            if (encoder != null) {
                encoder.abandonLiteral();
            }
        }
        appendInFlight = null;
        appendLiteral = null;
        closeAppendResources();
        releaseViewHold();
    }

    private void closeAppendResources() {
        closeQuietly(appendResources);
        appendResources = null;
    }

    private void releaseViewHold() {
        if (pendingAppend == null && !appendEncrypting && (fetchView == null || !fetchView.preparing())) {
            viewHold = false;
        }
        drainQueued();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // a spool: deleted, or unreadable without its key
            }
        }
    }

    /** {@code * LIST (attributes) delimiter mailbox}: tells {@link AppendFolders} the mailbox's roles. */
    private void observeList(ResponseLine line) {
        List<ImapToken> t = line.tokens();
        if (t.isEmpty() || !(t.get(0) instanceof ImapToken.Open)) {
            return;
        }
        List<String> attributes = new ArrayList<>();
        int i = 1;
        for (; i < t.size() && !(t.get(i) instanceof ImapToken.Close); i++) {
            if (t.get(i) instanceof ImapToken.Atom a) {
                attributes.add(a.text());
            }
        }
        i += 2; // the close parenthesis and the delimiter
        if (i >= t.size()) {
            return;
        }
        String name = t.get(i) instanceof ImapToken.Atom a ? a.text() : t.get(i) instanceof ImapToken.Quoted q ? q.text() : null;
        if (name != null) {
            appendFolders.observeList(attributes, name);
        }
    }

    /** EXPUNGE and VANISHED take the messages' views out of the cache; COPYUID (of a MOVE) copies them. */
    private void followRemovals(ResponseLine line) {
        switch (line.name()) {
            case "EXPUNGE" -> fetchView.expunged(mailbox.uid(line.number()));
            case "VANISHED" -> {
                List<ImapToken> t = line.tokens();
                if (!t.isEmpty() && t.get(t.size() - 1) instanceof ImapToken.Atom set) {
                    long[] uids = org.mailproxy.imap.mailbox.SequenceSet.expand(set.text(), 0, 100_000);
                    if (uids != null) {
                        for (long uid : uids) {
                            fetchView.expunged(uid);
                        }
                    }
                }
            }
            case "OK" -> copyUid(line.code());
            default -> {
            }
        }
    }

    private void copyUid(String code) {
        if (code != null && code.regionMatches(true, 0, "COPYUID ", 0, 8)) {
            fetchView.copied(copyDestination, code);
        }
    }

    /** The destination of a COPY or MOVE ({@code [UID] COPY|MOVE set mailbox}), or null. */
    static String copyDestination(ImapVerb verb, String arguments) {
        String args = arguments.strip();
        if (verb.equals(ImapVerb.UID)) {
            int sp = args.indexOf(' ');
            if (sp < 0) {
                return null;
            }
            String sub = args.substring(0, sp).toUpperCase(Locale.ROOT);
            if (!sub.equals("COPY") && !sub.equals("MOVE")) {
                return null;
            }
            args = args.substring(sp + 1).strip();
        } else if (!verb.name().equals("COPY") && !verb.name().equals("MOVE")) {
            return null;
        }
        int sp = args.indexOf(' ');
        return sp < 0 ? null : mailboxArgument(args.substring(sp + 1));
    }

    private void releaseSink() {
        responseSink = null;
    }

    /** The mailbox name of SELECT/EXAMINE arguments (an atom or a quoted string), or null for a literal. */
    static String mailboxArgument(String args) {
        String a = args.trim();
        if (a.startsWith("\"")) {
            StringBuilder out = new StringBuilder();
            for (int i = 1; i < a.length(); i++) {
                char c = a.charAt(i);
                if (c == '\\' && i + 1 < a.length()) {
                    out.append(a.charAt(++i));
                } else if (c == '"') {
                    return out.toString();
                } else {
                    out.append(c);
                }
            }
            return null;
        }
        if (a.startsWith("{")) {
            return null;
        }
        int sp = a.indexOf(' ');
        String name = sp < 0 ? a : a.substring(0, sp);
        return name.equalsIgnoreCase("INBOX") ? "INBOX" : name;
    }

    private io.netty.channel.ChannelFuture writeClient(Object msg) {
        if (!client.isActive()) {
            ReferenceCountUtil.release(msg);
            return client.newFailedFuture(new java.nio.channels.ClosedChannelException());
        }
        if (msg instanceof io.netty.buffer.ByteBufHolder h) {
            metrics.bytesToClient(h.content().readableBytes());
        } else if (msg instanceof ByteBuf b) {
            metrics.bytesToClient(b.readableBytes());
        }
        io.netty.channel.ChannelFuture f = client.write(msg);
        f.addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        return f;
    }
}
