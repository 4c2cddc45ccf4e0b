package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.core.net.ProxyService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's one HTTP listener ({@code mailproxy.http.listen}) for tools on this machine: Prometheus, health
 * checks, a mail client fetching its settings. Each path belongs to one {@link Endpoint}; anything else is 404.
 *
 * <p>The JDK's own HTTP server is enough for a scrape or a health check every few seconds: two daemon threads
 * answer, so a {@code /health} that waits briefly for its first probes does not hold up a scrape.
 */
public final class HttpListener implements ProxyService {

    private static final Logger LOG = LoggerFactory.getLogger(HttpListener.class);

    private final ListenAddress listen;
    private final List<Endpoint> endpoints;
    private HttpServer server;
    private ExecutorService executor;

    public HttpListener(ListenAddress listen, List<? extends Endpoint> endpoints) {
        this.listen = listen;
        this.endpoints = List.copyOf(endpoints);
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public void start() throws IOException {
        HttpServer s = HttpServer.create();
        s.bind(listen.toSocketAddress(), 16);
        s.createContext("/", this::dispatch);
        AtomicInteger n = new AtomicInteger();
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "mailproxy-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.start();
        server = s;
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        try {
            for (Endpoint e : endpoints) {
                if (path != null && e.serves(path)) {
                    e.handle(exchange);
                    return;
                }
            }
            Exchanges.respond(exchange, 404, Exchanges.TEXT, "not found\n");
        } catch (RuntimeException e) {
            // Never echo what went wrong to the caller (STYLE.md 4); the log has it.
            LOG.warn("http {} {}: {}", exchange.getRequestMethod(), path, e.toString());
            Exchanges.respond(exchange, 500, Exchanges.TEXT, "internal error\n");
        }
    }

    @Override
    public InetSocketAddress boundAddress() {
        if (server == null) {
            throw new IllegalStateException("not started");
        }
        return server.getAddress();
    }

    @Override
    public void stopAccepting() {
        // Every answer takes milliseconds; stopping happens in drainAndClose.
    }

    @Override
    public CompletionStage<Void> drainAndClose(Duration grace) {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
        for (Endpoint e : endpoints) {
            if (e instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ex) {
                    LOG.warn("closing the http endpoints: {}", ex.toString());
                }
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public int activeSessions() {
        return 0;
    }
}
