package org.mailproxy.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.mailproxy.config.Account;
import org.mailproxy.core.auth.LocalAuthException;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.smtp.codec.DataEnd;
import org.mailproxy.smtp.codec.DotStuffer;
import org.mailproxy.smtp.codec.SmtpCommand;
import org.mailproxy.smtp.codec.SmtpCommandDecoder;
import org.mailproxy.smtp.codec.SmtpException;
import org.mailproxy.smtp.codec.SmtpInputError;
import org.mailproxy.smtp.codec.SmtpReplies;
import org.mailproxy.smtp.codec.SmtpReply;
import org.mailproxy.smtp.codec.SmtpRequest;
import org.mailproxy.smtp.transform.ContentSink;
import org.mailproxy.smtp.transform.Envelope;
import org.mailproxy.smtp.transform.MessageStream;
import org.mailproxy.smtp.upstream.UpstreamFailure;
import org.mailproxy.smtp.upstream.UpstreamLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One client connection and its upstream: the RFC 6409 submission dialogue in front of the provider. The last
 * handler of the client pipeline; it also listens to the {@link UpstreamLink}. Both channels run on the client's
 * event loop, so nothing here is shared between threads.
 *
 * <p>The session answers EHLO, HELO, STARTTLS, HELP and QUIT itself and relays the rest one command at a time,
 * so every upstream reply (per recipient, with enhanced codes) reaches the client in order. Commands the client
 * pipelines (RFC 2920) wait in a queue; the client is read again only when the queue is empty, the state wants
 * input and the other side can take more (backpressure). All state changes go through {@link #moveTo}.
 */
final class SmtpSession extends ChannelInboundHandlerAdapter implements UpstreamLink.Listener {

    private static final Logger log = LoggerFactory.getLogger(SmtpSession.class);
    private static final Pattern SIZE_PARAM = Pattern.compile("(?i)(?:^|\\s)SIZE=(\\d{1,18})(?:\\s|$)");
    private static final List<String> MECHANISMS = List.of("PLAIN", "LOGIN", "XOAUTH2");
    /** Wrong local passwords a session may try before it is closed. */
    static final int MAX_LOCAL_AUTH_FAILURES = 3;

    enum State {
        /** Connected; in single-account mode the upstream is being set up before the greeting. */
        STARTING,
        /** Waiting for (or working through queued) commands. */
        READY,
        /** AUTH named an account; its upstream is being set up. */
        UPSTREAM_CONNECTING,
        /** A relayed command awaits the upstream's reply. */
        AWAIT_REPLY,
        /** An AUTH step awaits the upstream's reply. */
        AUTH_UPSTREAM,
        /** A 334 challenge went to the client; its response line comes next. */
        AUTH_CLIENT,
        /** Local STARTTLS handshake. */
        TLS_HANDSHAKE,
        /** DATA went upstream; waiting for its 354. */
        DATA_STARTING,
        /** Message content flows through the transform to the upstream. */
        DATA,
        /** The message failed (refused, upstream gone): reading the rest of it, sending nothing. */
        DATA_DISCARD,
        /** The terminator went upstream; waiting for the final reply. */
        DATA_ENDING,
        CLOSED
    }

    /** What an AWAIT_REPLY reply answers. */
    private enum Awaiting { MAIL, RCPT, RSET, RSET_BEFORE_EHLO, OTHER }

    private final SessionSettings settings;
    private final SmtpCommandDecoder decoder;
    private final String id;
    private final ArrayDeque<Object> pending = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private Channel client;
    private State state = State.STARTING;
    private boolean driving;
    private boolean tlsActive;
    private boolean authenticated;
    private boolean draining;
    private boolean upstreamNeedsFlush;
    private String closeReason = "client disconnected";
    private int messages;

    private UpstreamLink upstream;
    private Account account;
    private String upstreamGone;

    private SmtpRequest authCommand;
    private boolean authLocal;
    /** With local authentication: the mechanism of the exchange with the client (PLAIN or LOGIN), else null. */
    private String localMechanism;
    /** LOGIN's user name, once the client sent it. */
    private String localUser;
    private int localAuthFailures;
    /** The AUTH exchange with the provider uses the stored login. */
    private boolean localLoginUpstream;
    private final List<String> authReplay = new ArrayList<>(2);

    private Awaiting awaiting;
    private String awaitingArgument;
    private boolean inTransaction;
    private String reversePath;
    private final List<String> recipients = new ArrayList<>();
    private MessageStream message;
    private DotStuffer stuffer;
    private SmtpReply dataFailure;
    /** The MAIL command as it went upstream, for the transactions a message's further copies need. */
    private String mailCommand;

    /**
     * Where the upstream is with a message's DATA when the transform decides its recipients after the header
     * section ({@link MessageTransform#decidesRecipients()}): not asked yet, working through {@link #script}
     * (RSET, MAIL and RCPT when the recipients differ, then DATA), or taking content.
     */
    private enum UpstreamData { OPEN, NOT_STARTED, STARTING }

    private UpstreamData upstreamData = UpstreamData.OPEN;
    private final ArrayDeque<String> script = new ArrayDeque<>();
    /** Stuffed content waiting for the upstream's 354. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    /** The client's message ended while the upstream was not taking content yet. */
    private boolean endAwaitingUpstream;
    private MessageStream.FurtherCopies furtherCopies = MessageStream.FurtherCopies.NONE;
    private int nextCopy;
    /** Replies still due for commands the proxy sent on its own behalf (an RSET after a refused message). */
    private int repliesToIgnore;
    /** The copy whose content goes out when its DATA gets a 354; null for the client's message itself. */
    private MessageStream.Copy copyInProgress;
    /** The recipients of the copy in flight, and of the copies the upstream accepted so far. */
    private List<String> currentRecipients = List.of();
    private final List<String> deliveredAlready = new ArrayList<>();
    private final ContentSink contentSink = new ContentSink() {
        @Override
        public void write(ByteBuf content) {
            sendContent(content);
        }

        @Override
        public void recipients(List<String> paths) {
            if (upstreamData == UpstreamData.NOT_STARTED) {
                startUpstreamData(paths);
            }
        }
    };

    SmtpSession(SessionSettings settings, SmtpCommandDecoder decoder, String id) {
        this.settings = settings;
        this.decoder = decoder;
        this.id = id;
    }

    String id() {
        return id;
    }

    Channel channel() {
        return client;
    }

    // ---------------------------------------------------------------- state

    /** The one place the state changes. Entering READY checks a pending shutdown, then reads if input is wanted. */
    private void moveTo(State next) {
        if (state == State.CLOSED) {
            return;
        }
        if (log.isTraceEnabled()) {
            log.trace("{} {} -> {}", id, state, next);
        }
        state = next;
        if (next == State.READY && draining && !busy()) {
            closeWith(SmtpReplies.shuttingDown(), "shutdown");
            return;
        }
        if (next == State.READY || next == State.AUTH_CLIENT) {
            drive();
        }
        maybeRead();
    }

    /** In a transaction (MAIL accepted up to the final reply of DATA): shutdown waits for it (RFC 6409 keeps mail). */
    private boolean busy() {
        return inTransaction || state == State.DATA_STARTING || state == State.DATA || state == State.DATA_DISCARD
                || state == State.DATA_ENDING || state == State.AWAIT_REPLY && awaiting == Awaiting.MAIL;
    }

    private void maybeRead() {
        if (client == null || !client.isActive() || decoder.isPaused() || !client.isWritable()) {
            return;
        }
        boolean want = switch (state) {
            case READY, AUTH_CLIENT -> pending.isEmpty();
            case DATA -> upstreamData != UpstreamData.STARTING && (upstream == null || upstream.isWritable());
            case DATA_DISCARD -> true;
            default -> false;
        };
        if (want) {
            client.read();
        }
    }

    // ---------------------------------------------------------------- client channel events

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.client = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        settings.metrics().sessionOpened();
        settings.registry().opened(this);
        log.info("{} open from {}", id, client.remoteAddress());
        SslHandler ssl = client.pipeline().get(SslHandler.class);
        if (ssl != null) {
            tlsActive = true;
            // The handshake needs reads before the session wants any (auto-read is off).
            client.read();
        }
        List<Account> accounts = settings.config().accounts();
        if (accounts.size() == 1 && !settings.localAuth().inForce()) {
            connectUpstream(accounts.get(0), this::greet);
        } else {
            greet();
        }
        ctx.fireChannelActive();
    }

    /** Commands one client may have queued: a transaction with every recipient, and some. */
    private int maxPipelined() {
        return settings.config().smtp().limits().maxRecipients() + 100;
    }

    private void greet() {
        reply(SmtpReplies.greeting());
        moveTo(State.READY);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf content) {
            onContent(content);
        } else if (msg instanceof DataEnd end) {
            onDataEnd(end);
        } else if (msg == SmtpInputError.HTTP_REQUEST) {
            settings.metrics().protocolError();
            closeNow("HTTP request on the SMTP port (SECURITY.md 16)");
        } else if (msg instanceof SmtpRequest || msg instanceof SmtpInputError) {
            if (pending.size() >= maxPipelined()) {
                // RFC 2920 sets no limit, but a queue we never bound is heap the client controls.
                settings.metrics().protocolError();
                pending.clear();
                closeWith(SmtpReplies.tooManyPipelined(), "too many pipelined commands");
                return;
            }
            pending.add(msg);
            drive();
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstreamNeedsFlush && upstream != null) {
            upstreamNeedsFlush = false;
            upstream.flush();
        }
        maybeRead();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        maybeRead();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            // Only while we wait for the client; while the upstream works (or cannot take more data), its own
            // deadline applies.
            boolean heldByUpstream = state == State.DATA && upstream != null
                    && (!upstream.isWritable() || upstreamData == UpstreamData.STARTING);
            if (heldByUpstream) {
                return;
            }
            if (state == State.READY || state == State.AUTH_CLIENT || state == State.DATA || state == State.DATA_DISCARD) {
                closeWith(SmtpReplies.clientIdle(), "client idle");
            }
        } else if (evt instanceof SslHandshakeCompletionEvent hs && !hs.isSuccess()) {
            settings.metrics().clientTlsFailure();
            closeNow("client TLS handshake failed");
        }
        ReferenceCountUtil.release(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof SSLException || cause instanceof SSLException) {
            // Counted once, by the handshake event, when it was the handshake that failed.
            closeNow("client TLS failed");
            return;
        }
        if (cause instanceof java.io.IOException) {
            closeNow("client connection error (" + cause.getClass().getSimpleName() + ")");
            return;
        }
        log.warn("{} unexpected failure in state {}", id, state, cause);
        closeWith(SmtpReplies.internalError(), "internal error");
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State was = state;
        state = State.CLOSED;
        if (message != null) {
            message.abort();
            message = null;
        }
        releaseCopyState();
        if (upstream != null) {
            // Mid-DATA the upstream connection is dropped without the terminator: nothing is delivered.
            if (was == State.DATA || was == State.DATA_STARTING || was == State.DATA_DISCARD || was == State.DATA_ENDING) {
                upstream.abort();
            } else {
                upstream.quit();
            }
            upstream = null;
        }
        pending.clear();
        settings.metrics().sessionClosed();
        settings.registry().closed(this);
        log.info("{} closed ({}), {} message(s) sent", id, closeReason, messages);
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- commands

    /** Works through queued commands while the state accepts one. Guarded against re-entry from the decoder. */
    private void drive() {
        if (driving) {
            return;
        }
        driving = true;
        try {
            while ((state == State.READY || state == State.AUTH_CLIENT) && !pending.isEmpty()) {
                Object next = pending.poll();
                if (next instanceof SmtpInputError error) {
                    inputError(error);
                } else if (state == State.AUTH_CLIENT) {
                    authResponse((SmtpRequest) next);
                } else {
                    command((SmtpRequest) next);
                }
            }
        } finally {
            driving = false;
        }
        maybeRead();
    }

    private void inputError(SmtpInputError error) {
        settings.metrics().protocolError();
        if (state == State.AUTH_CLIENT) {
            // RFC 4954 4: a bad response line ends the exchange; a relayed exchange is cancelled upstream too.
            boolean relayed = !authLocal;
            endAuthExchange();
            if (relayed && usable()) {
                upstream.command("*");
                moveTo(State.AUTH_UPSTREAM);
                return;
            }
        }
        reply(error.reply());
        moveTo(State.READY);
    }

    private void command(SmtpRequest r) {
        SmtpCommand c = r.command();
        if (c.equals(SmtpCommand.EHLO) || c.equals(SmtpCommand.HELO)) {
            hello(r);
        } else if (c.equals(SmtpCommand.STARTTLS)) {
            startTls();
        } else if (c.equals(SmtpCommand.AUTH)) {
            auth(r);
        } else if (c.equals(SmtpCommand.MAIL)) {
            mail(r);
        } else if (c.equals(SmtpCommand.RCPT)) {
            rcpt(r);
        } else if (c.equals(SmtpCommand.DATA)) {
            data(r);
        } else if (c.equals(SmtpCommand.RSET)) {
            if (usable()) {
                relay(r, Awaiting.RSET);
            } else {
                endTransaction();
                reply(SmtpReplies.ok());
            }
        } else if (c.equals(SmtpCommand.NOOP)) {
            if (usable()) {
                relay(r, Awaiting.OTHER);
            } else {
                reply(SmtpReplies.ok());
            }
        } else if (c.equals(SmtpCommand.QUIT)) {
            closeWith(SmtpReplies.bye(), "quit");
        } else if (c.equals(SmtpCommand.HELP)) {
            reply(SmtpReplies.help());
        } else if (c.equals(SmtpCommand.VRFY) || c.equals(SmtpCommand.EXPN)) {
            if (authenticated && requireUpstream()) {
                relay(r, Awaiting.OTHER);
            } else if (state != State.CLOSED) {
                reply(SmtpReplies.vrfyUnavailable());
            }
        } else if (c.equals(SmtpCommand.BDAT)) {
            // CHUNKING is not offered: its framing would bypass the DATA decoder.
            reply(SmtpReplies.chunkingUnsupported());
        } else if (!authenticated) {
            reply(SmtpReplies.authRequired());
        } else if (requireUpstream()) {
            // An extension verb we do not know: commands are an open set and the upstream decides.
            relay(r, Awaiting.OTHER);
        }
    }

    private void hello(SmtpRequest r) {
        boolean ehlo = r.command().equals(SmtpCommand.EHLO);
        if (inTransaction && usable()) {
            // RFC 5321 4.1.4: EHLO resets the transaction; the upstream must forget it too.
            endTransaction();
            awaitingArgument = ehlo ? "EHLO" : "HELO";
            upstream.command("RSET");
            awaiting = Awaiting.RSET_BEFORE_EHLO;
            moveTo(State.AWAIT_REPLY);
            return;
        }
        endTransaction();
        reply(ehlo ? ehloReply() : SmtpReplies.helo());
    }

    private SmtpReply ehloReply() {
        boolean smtpUtf8 = upstream != null && upstream.capabilities().has("SMTPUTF8");
        String mechanisms = !settings.localAuth().inForce() ? "PLAIN LOGIN XOAUTH2"
                : loginNeedsTls() ? "" : "PLAIN LOGIN";
        return SmtpReplies.ehlo(maxMessageSize(), settings.localTls().offersStartTls() && !tlsActive, smtpUtf8,
                mechanisms);
    }

    /**
     * True while a local password would cross a network in the clear: local authentication is in force, the client
     * is not on a loopback address, and TLS has not started.
     */
    private boolean loginNeedsTls() {
        if (!settings.localAuth().inForce() || tlsActive) {
            return false;
        }
        return !(client.remoteAddress() instanceof java.net.InetSocketAddress a) || a.getAddress() == null
                || !a.getAddress().isLoopbackAddress();
    }

    private long maxMessageSize() {
        long configured = settings.config().smtp().limits().maxMessageSize();
        long upstreamLimit = upstream == null ? configured : upstream.capabilities().maxSize().orElse(configured);
        return settings.transform().inputLimit(upstreamLimit);
    }

    private void startTls() {
        if (!settings.localTls().offersStartTls()) {
            reply(SmtpReplies.startTlsUnavailable());
            decoder.resume();
            return;
        }
        if (tlsActive) {
            reply(SmtpReplies.tlsAlreadyActive());
            decoder.resume();
            return;
        }
        if (authenticated || inTransaction) {
            reply(SmtpReplies.badSequence("STARTTLS must come before AUTH and MAIL"));
            decoder.resume();
            return;
        }
        if (decoder.hasBufferedInput() || !pending.isEmpty()) {
            // CVE-2011-0411: what was sent with STARTTLS would be taken as if it came through TLS.
            settings.metrics().protocolError();
            closeNow("data pipelined after STARTTLS (SECURITY.md 10)");
            return;
        }
        moveTo(State.TLS_HANDSHAKE);
        ctx.writeAndFlush(SmtpReplies.readyForTls()).addListener(f -> {
            if (!f.isSuccess() || state != State.TLS_HANDSHAKE) {
                closeNow("client gone before TLS");
                return;
            }
            SslHandler ssl = settings.localTls().newHandler(client.alloc());
            client.pipeline().addFirst("tls", ssl);
            ssl.handshakeFuture().addListener(h -> {
                if (!h.isSuccess()) {
                    return; // reported through userEventTriggered
                }
                // RFC 3207 4.2: knowledge from before TLS is discarded; the client says EHLO again.
                tlsActive = true;
                endTransaction();
                decoder.resume();
                moveTo(State.READY);
            });
            client.read();
        });
    }

    // ---------------------------------------------------------------- AUTH (RFC 4954), credentials pass through

    private void auth(SmtpRequest r) {
        if (authenticated) {
            reply(SmtpReplies.alreadyAuthenticated());
            return;
        }
        if (inTransaction) {
            reply(SmtpReplies.badSequence("AUTH is not allowed during a mail transaction"));
            return;
        }
        String[] parts = r.parameters().trim().split(" +", 2);
        String mechanism = parts[0].toUpperCase(Locale.ROOT);
        if (mechanism.isEmpty()) {
            reply(SmtpReplies.syntax("AUTH needs a mechanism"));
            return;
        }
        endAuthExchange();
        authCommand = r;
        if (settings.localAuth().inForce()) {
            startLocalAuth(mechanism, parts.length > 1 ? parts[1] : null);
            return;
        }
        if (settings.config().accounts().size() == 1) {
            // One account takes every login: the upstream is already there and decides.
            if (requireUpstream()) {
                upstream.command(r.toWire());
                moveTo(State.AUTH_UPSTREAM);
            }
            return;
        }
        if (!MECHANISMS.contains(mechanism)) {
            reply(SmtpReplies.mechanismUnsupported());
            return;
        }
        if (parts.length > 1) {
            selectAccount(loginFrom(mechanism, parts[1]));
            return;
        }
        // The login that selects the account is in the first response: ask for it ourselves.
        authLocal = true;
        reply(mechanism.equals("LOGIN") ? SmtpReplies.loginUsernameChallenge() : SmtpReplies.emptyChallenge());
        moveTo(State.AUTH_CLIENT);
    }

    private void authResponse(SmtpRequest line) {
        if (decoder.isPaused()) {
            // The response looked like DATA or STARTTLS to the decoder; here it is only a SASL line.
            decoder.resume();
        }
        if (localMechanism != null) {
            localAuthResponse(line.line());
            return;
        }
        if (authLocal) {
            authLocal = false;
            if (line.line().equals("*")) {
                endAuthExchange();
                reply(SmtpReplies.authCancelled());
                moveTo(State.READY);
                return;
            }
            authReplay.add(line.line());
            String mechanism = authCommand.parameters().trim().split(" +", 2)[0].toUpperCase(Locale.ROOT);
            selectAccount(loginFrom(mechanism, line.line()));
            return;
        }
        if (!requireUpstream()) {
            return;
        }
        upstream.command(line.toWire());
        moveTo(State.AUTH_UPSTREAM);
    }

    private void selectAccount(Optional<String> login) {
        if (login.isEmpty()) {
            endAuthExchange();
            reply(SmtpReplies.syntax("Cannot read the login name from the AUTH response"));
            moveTo(State.READY);
            return;
        }
        Optional<Account> selected = settings.config().accountForLogin(login.get());
        if (selected.isEmpty()) {
            endAuthExchange();
            settings.metrics().authFailure();
            reply(SmtpReplies.noAccountForLogin());
            moveTo(State.READY);
            return;
        }
        if (usable() && selected.get().equals(account)) {
            sendAuth();
            return;
        }
        if (upstream != null) {
            upstream.quit();
            upstream = null;
        }
        connectUpstream(selected.get(), this::sendAuth);
    }

    private void sendAuth() {
        upstream.command(authCommand.toWire());
        moveTo(State.AUTH_UPSTREAM);
    }

    private void authReply(SmtpReply r) {
        if (r.code() == 334) {
            if (!authReplay.isEmpty()) {
                // A step the client already answered us locally.
                upstream.command(authReplay.remove(0));
                return;
            }
            if (localLoginUpstream) {
                // The stored login's exchange has no further steps: cancel it (RFC 4954 4).
                upstream.command("*");
                return;
            }
            reply(r);
            moveTo(State.AUTH_CLIENT);
            return;
        }
        endAuthExchange();
        if (localLoginUpstream) {
            localLoginUpstream = false;
            if (!r.isPositiveCompletion()) {
                // The client's local password was right; only the operator can mend the stored login.
                settings.metrics().authFailure();
                log.warn("{} {} refused the stored login for {}; run `mailproxy accounts set-provider-password {}`",
                        id, account.smtpUpstream(), account.email(), account.email());
                r = SmtpReplies.providerLoginUnavailable("The provider refused mailproxy's stored login for "
                        + account.email());
            } else {
                authenticated = true;
            }
            reply(r);
            moveTo(State.READY);
            return;
        }
        if (r.isPositiveCompletion()) {
            authenticated = true;
        } else if (r.code() == 535 || r.code() == 534 || r.enhancedCode().filter(c -> c.startsWith("5.7.")).isPresent()) {
            settings.metrics().authFailure();
        }
        reply(r);
        moveTo(State.READY);
    }

    private void endAuthExchange() {
        authReplay.clear();
        authLocal = false;
        localMechanism = null;
        localUser = null;
    }

    // ---------------------------------------------------------------- local authentication

    /**
     * AUTH with local authentication in force: the exchange is the proxy's own (PLAIN or LOGIN, RFC 4616 and the
     * customary LOGIN), and nothing reaches the provider before the local password matched.
     */
    private void startLocalAuth(String mechanism, String initialResponse) {
        if (loginNeedsTls()) {
            reply(SmtpReplies.tlsRequiredForAuth());
            return;
        }
        if (!mechanism.equals("PLAIN") && !mechanism.equals("LOGIN")) {
            reply(SmtpReplies.localMechanismUnsupported());
            return;
        }
        localMechanism = mechanism;
        if (initialResponse != null) {
            localAuthResponse(initialResponse);
            return;
        }
        reply(mechanism.equals("LOGIN") ? SmtpReplies.loginUsernameChallenge() : SmtpReplies.emptyChallenge());
        moveTo(State.AUTH_CLIENT);
    }

    private void localAuthResponse(String line) {
        String text = line.trim();
        if (text.equals("*")) {
            endAuthExchange();
            reply(SmtpReplies.authCancelled());
            moveTo(State.READY);
            return;
        }
        byte[] raw;
        try {
            raw = text.equals("=") ? new byte[0] : Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            endAuthExchange();
            reply(SmtpReplies.syntax("Invalid base64 in the authentication response"));
            moveTo(State.READY);
            return;
        }
        if (localMechanism.equals("LOGIN") && localUser == null) {
            localUser = new String(raw, StandardCharsets.UTF_8);
            reply(SmtpReplies.loginPasswordChallenge());
            moveTo(State.AUTH_CLIENT);
            return;
        }
        String user;
        byte[] password;
        if (localMechanism.equals("LOGIN")) {
            user = localUser;
            password = raw;
        } else {
            // RFC 4616: [authzid] NUL authcid NUL passwd; an authzid other than the authcid is not supported.
            int first = indexOf(raw, 0);
            int second = first < 0 ? -1 : indexOf(raw, first + 1);
            String authz = first < 0 ? "" : new String(raw, 0, first, StandardCharsets.UTF_8);
            user = second < 0 ? "" : new String(raw, first + 1, second - first - 1, StandardCharsets.UTF_8);
            password = second < 0 ? new byte[0] : java.util.Arrays.copyOfRange(raw, second + 1, raw.length);
            java.util.Arrays.fill(raw, (byte) 0);
            if (second < 0 || !authz.isEmpty() && !authz.equals(user)) {
                endAuthExchange();
                reply(SmtpReplies.syntax("AUTH PLAIN expects [authzid] NUL user NUL password"));
                moveTo(State.READY);
                return;
            }
        }
        endAuthExchange();
        checkLocalPassword(user, password);
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private void checkLocalPassword(String user, byte[] password) {
        Optional<Account> named;
        try {
            named = settings.localAuth().authenticate(user, password);
        } catch (java.io.IOException e) {
            log.warn("{} cannot read local passwords: {}", id, e.getMessage());
            reply(SmtpReplies.providerLoginUnavailable("mailproxy cannot check passwords now"));
            moveTo(State.READY);
            return;
        } finally {
            java.util.Arrays.fill(password, (byte) 0);
        }
        if (named.isEmpty()) {
            settings.metrics().authFailure();
            log.info("{} local login refused", id);
            if (++localAuthFailures >= MAX_LOCAL_AUTH_FAILURES) {
                closeWith(SmtpReplies.tooManyAuthFailures(), "too many failed logins");
                return;
            }
            reply(SmtpReplies.invalidCredentials());
            moveTo(State.READY);
            return;
        }
        Account a = named.get();
        ProviderLogin login;
        try {
            login = settings.localAuth().providerLogin(a);
        } catch (LocalAuthException e) {
            log.warn("{}: {}", id, e.getMessage());
            reply(SmtpReplies.providerLoginUnavailable(e.reason() == LocalAuthException.Reason.KEY_LOCKED
                    ? "The account's key is locked; run mailproxy keys unlock " + a.email()
                    : "mailproxy has no usable provider password for " + a.email()));
            moveTo(State.READY);
            return;
        }
        log.info("{} local login for {}", id, a.email());
        if (upstream != null) {
            upstream.quit();
            upstream = null;
        }
        connectUpstream(a, () -> sendProviderLogin(login));
    }

    /**
     * Logs in to the provider with the stored login: AUTH PLAIN with an initial response when offered, else AUTH
     * LOGIN answering its two challenges from {@link #authReplay}. The password is erased once encoded.
     */
    private void sendProviderLogin(ProviderLogin login) {
        Base64.Encoder b64 = Base64.getEncoder();
        try {
            byte[] user = login.login().getBytes(StandardCharsets.UTF_8);
            if (upstream.capabilities().offersAuth("PLAIN")) {
                byte[] ir = new byte[user.length + login.password().length + 2];
                System.arraycopy(user, 0, ir, 1, user.length);
                System.arraycopy(login.password(), 0, ir, user.length + 2, login.password().length);
                upstream.command("AUTH PLAIN " + b64.encodeToString(ir));
                java.util.Arrays.fill(ir, (byte) 0);
            } else if (upstream.capabilities().offersAuth("LOGIN")) {
                authReplay.add(b64.encodeToString(user));
                authReplay.add(b64.encodeToString(login.password()));
                upstream.command("AUTH LOGIN");
            } else {
                log.warn("{} {} offers neither AUTH PLAIN nor LOGIN for the stored login", id, account.smtpUpstream());
                upstream.quit();
                upstream = null;
                reply(SmtpReplies.providerLoginUnavailable("The provider offers no password login"));
                moveTo(State.READY);
                return;
            }
        } finally {
            login.erase();
        }
        localLoginUpstream = true;
        moveTo(State.AUTH_UPSTREAM);
    }

    /** The login inside a SASL response: PLAIN's authcid (RFC 4616), LOGIN's user name, XOAUTH2's {@code user=}. */
    static Optional<String> loginFrom(String mechanism, String base64) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.trim());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        String text = new String(raw, StandardCharsets.UTF_8);
        String login = switch (mechanism) {
            case "PLAIN" -> {
                String[] f = text.split("\0", -1);
                yield f.length == 3 ? (f[1].isEmpty() ? f[0] : f[1]) : null;
            }
            case "LOGIN" -> text;
            case "XOAUTH2" -> {
                int start = text.startsWith("user=") ? 5 : -1;
                int end = text.indexOf('\u0001');
                yield start < 0 || end < start ? null : text.substring(start, end);
            }
            default -> null;
        };
        return login == null || login.isBlank() ? Optional.empty() : Optional.of(login);
    }

    // ---------------------------------------------------------------- transaction

    private void mail(SmtpRequest r) {
        if (!authenticated) {
            reply(SmtpReplies.authRequired());
            return;
        }
        if (inTransaction) {
            reply(SmtpReplies.badSequence("Sender already given; send RSET first"));
            return;
        }
        Matcher size = SIZE_PARAM.matcher(r.parameters());
        if (size.find() && Long.parseLong(size.group(1)) > maxMessageSize()) {
            reply(SmtpReplies.messageTooBig(maxMessageSize()));
            return;
        }
        if (requireUpstream()) {
            awaitingArgument = pathOf(r.parameters(), "FROM:");
            long declared = size.find(0) ? Long.parseLong(size.group(1)) : -1;
            if (declared >= 0 && settings.transform().outputSize(declared) != declared) {
                // the upstream judges the size of what it will receive: the transformed message (RFC 1870 6)
                r = new SmtpRequest(r.line().substring(0, r.line().length() - r.parameters().length())
                        + r.parameters().substring(0, size.start(1)) + settings.transform().outputSize(declared)
                        + r.parameters().substring(size.end(1)));
            }
            mailCommand = r.line();
            relay(r, Awaiting.MAIL);
        }
    }

    private void rcpt(SmtpRequest r) {
        if (!authenticated) {
            reply(SmtpReplies.authRequired());
            return;
        }
        if (!inTransaction) {
            reply(SmtpReplies.badSequence("Need MAIL before RCPT"));
            return;
        }
        int max = settings.config().smtp().limits().maxRecipients();
        if (recipients.size() >= max) {
            reply(SmtpReplies.tooManyRecipients(max));
            return;
        }
        if (requireUpstream()) {
            awaitingArgument = pathOf(r.parameters(), "TO:");
            relay(r, Awaiting.RCPT);
        }
    }

    private void data(SmtpRequest r) {
        SmtpReply refusal = !authenticated ? SmtpReplies.authRequired()
                : !inTransaction ? SmtpReplies.badSequence("Need MAIL before DATA")
                : recipients.isEmpty() ? SmtpReplies.noRecipients()
                : !r.parameters().isBlank() ? SmtpReplies.syntax("DATA takes no parameters")
                : null;
        if (refusal != null) {
            reply(refusal);
            decoder.resume();
            return;
        }
        if (!requireUpstream()) {
            return;
        }
        // The transform sees the envelope before anything goes upstream, so a policy refusal (SECURITY.md 15)
        // comes before DATA and leaves the client with the message.
        try {
            message = settings.transform().open(new Envelope(account.email(), reversePath, recipients), contentSink);
        } catch (SmtpException e) {
            reply(e.reply());
            decoder.resume();
            return;
        }
        stuffer = new DotStuffer(SessionSettings.MAX_DATA_LINE);
        dataFailure = null;
        deliveredAlready.clear();
        if (settings.transform().decidesRecipients()) {
            // The upstream's DATA waits for the transform's recipients, known once it read the header section.
            upstreamData = UpstreamData.NOT_STARTED;
            moveTo(State.DATA);
            reply(SmtpReplies.startData());
            decoder.startData(SessionSettings.MAX_DATA_LINE, maxMessageSize());
            maybeRead();
            return;
        }
        upstream.command("DATA");
        moveTo(State.DATA_STARTING);
    }

    /**
     * Asks the upstream for DATA for the copy going to {@code paths}: straight away when they are the envelope's
     * recipients, else after RSET and MAIL and RCPT for just them (the Bcc recipients then get copies of their own).
     */
    private void startUpstreamData(List<String> paths) {
        upstreamData = UpstreamData.STARTING;
        script.clear();
        if (!paths.equals(recipients)) {
            script.add("RSET");
            script.add(mailCommand);
            for (String p : paths) {
                script.add("RCPT TO:" + p);
            }
        }
        script.add("DATA");
        currentRecipients = List.copyOf(paths);
        upstream.command(script.peek());
    }

    /** A reply to a {@link #script} command; at the 354 the held content goes out. */
    private void scriptReply(SmtpReply r) {
        String sent = script.poll();
        boolean ok = "DATA".equals(sent) ? r.code() == 354 : r.isPositiveCompletion();
        if (!ok) {
            log.info("{} upstream refused {} for a message copy: {}", id, sent == null ? "?" : sent.split(" ")[0],
                    r.code());
            refuseMessage(r.code() >= 500 ? r : SmtpReplies.messageNotSent("the provider refused the message ("
                    + r.code() + ")"), "copy refused by the provider");
            return;
        }
        if (!script.isEmpty()) {
            upstream.command(script.peek());
            return;
        }
        upstreamData = UpstreamData.OPEN;
        if (copyInProgress != null) {
            MessageStream.Copy copy = copyInProgress;
            copyInProgress = null;
            try {
                copy.writeTo(contentSink);
            } catch (SmtpException e) {
                refuseMessage(e.reply(), "copy failed");
                return;
            } catch (RuntimeException e) {
                log.warn("{} message copy failed", id, e);
                refuseMessage(SmtpReplies.messageNotSent("Internal error while processing the message"), "copy failure");
                return;
            }
        }
        while (!held.isEmpty() && upstream != null) {
            upstream.write(held.poll());
        }
        if (upstream == null) {
            return;
        }
        if (endAwaitingUpstream) {
            endAwaitingUpstream = false;
            finishUpstreamMessage();
        } else {
            upstream.flush();
            maybeRead();
        }
    }

    /** The terminator goes upstream; its reply is the copy's final answer. */
    private void finishUpstreamMessage() {
        upstream.write(stuffer.end(client.alloc()));
        upstreamNeedsFlush = false;
        upstream.flush();
        upstream.expectReply();
        moveTo(State.DATA_ENDING);
    }

    /**
     * A message copy was refused after the client's message ended: the upstream connection is dropped (no
     * terminator, nothing more delivered) and the client gets {@code reply}, naming who has it already.
     */
    private void refuseMessage(SmtpReply reply, String why) {
        boolean clientDone = state == State.DATA_ENDING;
        List<String> already = List.copyOf(deliveredAlready);
        failMessage(reply, why);
        if (clientDone) {
            SmtpReply r = dataFailure;
            dataFailure = null;
            endTransaction();
            if (!already.isEmpty()) {
                r = SmtpReply.of(r.code() >= 500 ? 554 : 451, r.code() >= 500 ? "5.0.0" : "4.0.0",
                        "Delivered to " + addresses(already) + " but not to the others: "
                                + String.join(" ", r.lines()) + "; sending again delivers it to the first twice");
            }
            reply(r);
            moveTo(State.READY);
        }
    }

    private void dataStartReply(SmtpReply r) {
        if (r.code() != 354) {
            message.abort();
            message = null;
            reply(r);
            moveTo(State.READY);
            decoder.resume();
            return;
        }
        moveTo(State.DATA);
        reply(SmtpReplies.startData());
        decoder.startData(SessionSettings.MAX_DATA_LINE, maxMessageSize());
        maybeRead();
    }

    /** The transform's output: stuffed and sent upstream. */
    private void sendContent(ByteBuf content) {
        if (upstreamData == UpstreamData.NOT_STARTED) {
            startUpstreamData(recipients);
        }
        ByteBuf stuffed;
        try {
            stuffed = stuffer.stuff(client.alloc(), content);
        } finally {
            content.release();
        }
        if (upstream == null) {
            // Failed during an earlier write of this chunk; DATA_DISCARD takes it from here.
            stuffed.release();
            return;
        }
        if (upstreamData == UpstreamData.STARTING) {
            held.add(stuffed);
            return;
        }
        upstream.write(stuffed);
        upstreamNeedsFlush = true;
    }

    private void onContent(ByteBuf content) {
        if (state != State.DATA || message == null) {
            content.release();
            return;
        }
        try {
            message.write(content);
        } catch (SmtpException e) {
            failMessage(e.reply(), "message refused by policy");
        } catch (RuntimeException e) {
            log.warn("{} message transform failed", id, e);
            failMessage(SmtpReplies.messageNotSent("Internal error while processing the message"), "transform failure");
        }
    }

    private void onDataEnd(DataEnd end) {
        if (state == State.DATA && end.isRefused()) {
            settings.metrics().protocolError();
            failMessage(end.refusal().get(), "message data refused");
        }
        if (state == State.DATA_DISCARD) {
            SmtpReply r = dataFailure;
            dataFailure = null;
            endTransaction();
            reply(r);
            moveTo(State.READY);
            return;
        }
        if (state != State.DATA) {
            return;
        }
        try {
            message.end();
            furtherCopies = message.furtherCopies();
            message = null;
            if (upstreamData == UpstreamData.NOT_STARTED && upstream != null) {
                // the transform wrote nothing at all
                startUpstreamData(recipients);
            }
            if (upstreamData == UpstreamData.STARTING) {
                // the upstream has not said 354 yet: the terminator follows the held content then
                endAwaitingUpstream = true;
                moveTo(State.DATA_ENDING);
                return;
            }
            if (upstream != null) {
                upstream.write(stuffer.end(client.alloc()));
            }
        } catch (SmtpException e) {
            failMessage(e.reply(), "message refused by policy");
            onDataEnd(end);
            return;
        } catch (RuntimeException e) {
            log.warn("{} message transform failed at the end", id, e);
            failMessage(SmtpReplies.messageNotSent("Internal error while processing the message"), "transform failure");
            onDataEnd(end);
            return;
        }
        upstreamNeedsFlush = false;
        if (upstream != null) {
            upstream.flush();
        }
        if (state != State.DATA || upstream == null) {
            // The upstream failed while we wrote to it.
            onDataEnd(end);
            return;
        }
        upstream.expectReply();
        moveTo(State.DATA_ENDING);
    }

    /**
     * The message will not be sent: the upstream connection is dropped before the terminator, the only way to
     * cancel a DATA (RFC 5321 has none), and the rest of the client's data is read and thrown away.
     */
    private void failMessage(SmtpReply reply, String why) {
        // Before the upstream was asked for DATA, RSET cancels the transaction and the session stays usable.
        boolean beforeUpstreamData = upstreamData == UpstreamData.NOT_STARTED && usable();
        releaseCopyState();
        if (message != null) {
            message.abort();
            message = null;
        }
        if (beforeUpstreamData) {
            repliesToIgnore++;
            upstream.command("RSET");
        } else if (upstream != null) {
            upstream.abort();
            upstream = null;
            upstreamGone = "the connection to the provider was closed to cancel the previous message (" + why
                    + "); reconnect";
        }
        dataFailure = reply;
        moveTo(State.DATA_DISCARD);
    }

    private void relay(SmtpRequest r, Awaiting kind) {
        awaiting = kind;
        upstream.command(r.toWire());
        moveTo(State.AWAIT_REPLY);
    }

    private void relayReply(SmtpReply r) {
        Awaiting kind = awaiting;
        awaiting = null;
        switch (kind) {
            case MAIL -> {
                if (r.isPositiveCompletion()) {
                    inTransaction = true;
                    reversePath = awaitingArgument;
                    recipients.clear();
                } else {
                    mailCommand = null;
                }
            }
            case RCPT -> {
                if (r.isPositiveCompletion()) {
                    recipients.add(awaitingArgument);
                }
            }
            case RSET -> endTransaction();
            case RSET_BEFORE_EHLO -> {
                reply(awaitingArgument.equals("EHLO") ? ehloReply() : SmtpReplies.helo());
                moveTo(State.READY);
                return;
            }
            default -> {
            }
        }
        reply(r);
        moveTo(State.READY);
    }

    /** Paths as a person reads them: {@code <bob@example.org>} becomes {@code bob@example.org}. */
    private static String addresses(List<String> paths) {
        return String.join(", ", paths.stream().map(p -> p.replaceAll("^<(.*)>$", "$1")).toList());
    }

    private void endTransaction() {
        inTransaction = false;
        reversePath = null;
        recipients.clear();
        releaseCopyState();
    }

    /** Forgets a message's copies and anything held for the upstream. */
    private void releaseCopyState() {
        upstreamData = UpstreamData.OPEN;
        script.clear();
        endAwaitingUpstream = false;
        copyInProgress = null;
        while (!held.isEmpty()) {
            held.poll().release();
        }
        furtherCopies.close();
        furtherCopies = MessageStream.FurtherCopies.NONE;
        nextCopy = 0;
    }

    /**
     * The upstream's answer to a copy's terminator. After an accepted copy the next one (a Bcc recipient's) starts
     * as a transaction of its own; the client hears once all are through, or how far it got.
     */
    private void finalReply(SmtpReply r) {
        if (r.isPositiveCompletion()) {
            deliveredAlready.addAll(currentRecipients);
            List<MessageStream.Copy> copies = furtherCopies.copies();
            if (nextCopy < copies.size() && upstream != null && mailCommand != null) {
                MessageStream.Copy copy = copies.get(nextCopy++);
                copyInProgress = copy;
                stuffer = new DotStuffer(SessionSettings.MAX_DATA_LINE);
                upstreamData = UpstreamData.STARTING;
                endAwaitingUpstream = true;
                script.clear();
                script.add(mailCommand);
                for (String p : copy.recipients()) {
                    script.add("RCPT TO:" + p);
                }
                script.add("DATA");
                currentRecipients = copy.recipients();
                upstream.command(script.peek());
                return;
            }
            messages++;
        } else if (!deliveredAlready.isEmpty()) {
            r = SmtpReply.of(r.code() >= 500 ? 554 : 451, r.code() >= 500 ? "5.0.0" : "4.0.0",
                    "Delivered to " + addresses(deliveredAlready) + " but not to the others: "
                            + String.join(" ", r.lines()) + "; sending again delivers it to the first twice");
        }
        endTransaction();
        mailCommand = null;
        reply(r);
        moveTo(State.READY);
    }

    private static String pathOf(String parameters, String prefix) {
        String p = parameters.trim();
        if (p.regionMatches(true, 0, prefix, 0, prefix.length())) {
            p = p.substring(prefix.length()).trim();
        }
        int space = p.indexOf(' ');
        return space < 0 ? p : p.substring(0, space);
    }

    // ---------------------------------------------------------------- upstream

    private void connectUpstream(Account selected, Runnable then) {
        moveTo(state == State.STARTING ? State.STARTING : State.UPSTREAM_CONNECTING);
        account = selected;
        io.netty.util.concurrent.Future<UpstreamLink> connecting =
                settings.connector().connect(client.eventLoop(), selected.smtpUpstream());
        connecting.addListener(f -> {
            UpstreamLink link = connecting.getNow();
            if (state == State.CLOSED) {
                if (link != null) {
                    link.quit();
                }
                return;
            }
            if (!f.isSuccess()) {
                UpstreamFailure failure = UpstreamFailure.classify(selected.smtpUpstream(), f.cause());
                log.info("{} upstream {} unusable: {}", id, selected.smtpUpstream(), failure.getMessage());
                closeWith(replyFor(failure), "upstream unusable: " + failure.outcome());
                return;
            }
            upstream = link;
            upstreamGone = null;
            link.listener(this);
            then.run();
        });
    }

    private static SmtpReply replyFor(UpstreamFailure f) {
        return switch (f.outcome()) {
            case BAD_CERTIFICATE, TLS_FAILED, STARTTLS_UNAVAILABLE -> SmtpReplies.upstreamTlsFailed(f.getMessage());
            default -> SmtpReplies.upstreamUnavailable(f.getMessage());
        };
    }

    private boolean usable() {
        return upstream != null && upstream.isOpen();
    }

    /** True when the upstream can take a command; otherwise tells the client why not and closes. */
    private boolean requireUpstream() {
        if (usable()) {
            return true;
        }
        closeWith(SmtpReplies.upstreamLost(upstreamGone != null ? upstreamGone : "the connection to the provider is gone"),
                "upstream gone");
        return false;
    }

    @Override
    public void upstreamReply(SmtpReply r) {
        if (repliesToIgnore > 0) {
            // the answer to an RSET that cancelled a refused message; replies come in order
            repliesToIgnore--;
            return;
        }
        switch (state) {
            case AWAIT_REPLY -> relayReply(r);
            case AUTH_UPSTREAM -> authReply(r);
            case DATA_STARTING -> dataStartReply(r);
            case DATA -> {
                if (upstreamData == UpstreamData.STARTING) {
                    scriptReply(r);
                } else {
                    log.debug("{} ignoring an upstream reply during DATA", id);
                }
            }
            case DATA_ENDING -> {
                if (upstreamData == UpstreamData.STARTING) {
                    scriptReply(r);
                } else {
                    finalReply(r);
                }
            }
            default -> log.debug("{} ignoring an upstream reply in state {}", id, state);
        }
    }

    @Override
    public void upstreamFailed(UpstreamFailure failure) {
        upstream = null;
        upstreamGone = failure.getMessage();
        log.info("{} upstream lost in state {}: {}", id, state, failure.getMessage());
        switch (state) {
            case DATA -> {
                if (message != null) {
                    message.abort();
                    message = null;
                }
                dataFailure = SmtpReplies.messageNotSent(failure.getMessage());
                moveTo(State.DATA_DISCARD);
            }
            case DATA_DISCARD, CLOSED -> {
            }
            default -> {
                if ((state == State.DATA_ENDING) && !deliveredAlready.isEmpty()) {
                    // a Bcc copy was under way: the client must learn who has the message already
                    messages++;
                    SmtpReply r = SmtpReply.of(451, "4.4.2", "Delivered to " + addresses(deliveredAlready)
                            + " but not to the others: " + failure.getMessage()
                            + "; sending again delivers it to the first twice");
                    closeWith(r, "upstream lost during a message copy");
                    return;
                }
                closeWith(SmtpReplies.upstreamLost(failure.getMessage()), "upstream lost");
            }
        }
    }

    @Override
    public void upstreamWritable() {
        maybeRead();
    }

    // ---------------------------------------------------------------- output and end

    private void reply(SmtpReply r) {
        if (state == State.CLOSED || !client.isActive()) {
            return;
        }
        long n = 0;
        for (String line : r.lines()) {
            n += line.length() + 6;
        }
        settings.metrics().bytesToClient(n);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
    }

    private void closeWith(SmtpReply r, String reason) {
        if (state == State.CLOSED) {
            return;
        }
        reply(r);
        closeReason = reason;
        moveTo(State.CLOSED);
        ctx.flush();
        ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    private void closeNow(String reason) {
        if (state != State.CLOSED) {
            closeReason = reason;
            moveTo(State.CLOSED);
        }
        client.close();
    }

    /** Shutdown: an idle session closes now with 421; a transaction in flight may finish first. */
    void drain() {
        draining = true;
        if (state == State.CLOSED) {
            return;
        }
        if (!busy() && (state == State.READY || state == State.AUTH_CLIENT || state == State.STARTING)) {
            closeWith(SmtpReplies.shuttingDown(), "shutdown");
        }
    }

    /** Shutdown grace is over. */
    void forceClose() {
        if (client.isActive()) {
            closeWith(SmtpReplies.shuttingDown(), "shutdown, grace period over");
            client.close();
        }
    }
}
