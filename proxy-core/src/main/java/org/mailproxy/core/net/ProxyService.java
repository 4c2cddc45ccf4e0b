package org.mailproxy.core.net;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** A listener the daemon starts and stops: the IMAP proxy, the SMTP proxy, the HTTP listener. */
public interface ProxyService {

    /** A short name for logs: "imap", "smtp", "http". */
    String name();

    /**
     * Binds and starts accepting. Throws {@link java.net.BindException} (or another IOException) when the address
     * is taken or not allowed; the daemon then refuses to start (SECURITY.md 22).
     */
    void start() throws java.io.IOException;

    /** The bound address (useful when configured with port 0). */
    InetSocketAddress boundAddress();

    /** Stops accepting new connections; sessions in progress continue. */
    void stopAccepting();

    /**
     * Lets work in flight finish (SMTP: transactions; IMAP: nothing to wait for) for at most {@code grace}, then
     * closes every session. Completes when all sessions are closed.
     */
    CompletionStage<Void> drainAndClose(Duration grace);

    /** Sessions open now. */
    int activeSessions();
}
