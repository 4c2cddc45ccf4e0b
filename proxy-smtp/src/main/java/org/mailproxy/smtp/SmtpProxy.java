package org.mailproxy.smtp;

import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.ProxyService;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** STUB: the SMTP listener; replaced by the real relay. Constructor signature is the contract. */
public final class SmtpProxy implements ProxyService {
    private final ProxyContext context;

    public SmtpProxy(ProxyContext context) {
        this.context = context;
    }

    @Override public String name() { return "smtp"; }
    @Override public void start() { throw new UnsupportedOperationException("SMTP relay not built yet: " + context.config().smtp().listen()); }
    @Override public InetSocketAddress boundAddress() { throw new IllegalStateException("not started"); }
    @Override public void stopAccepting() { }
    @Override public CompletionStage<Void> drainAndClose(Duration grace) { return CompletableFuture.completedFuture(null); }
    @Override public int activeSessions() { return 0; }
}
