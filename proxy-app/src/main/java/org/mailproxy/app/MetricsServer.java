package org.mailproxy.app;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.core.net.ProxyService;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves the Prometheus text exposition format at {@code GET /metrics}. The JDK's own HTTP server is enough for a
 * scrape every few seconds from this machine; one daemon thread answers. Later endpoints (health, autoconfig) are
 * added here.
 */
final class MetricsServer implements ProxyService {

    /** Prometheus text format 0.0.4, what every scraper accepts. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final ListenAddress listen;
    private final PrometheusMeterRegistry registry;
    private HttpServer server;
    private ExecutorService executor;

    MetricsServer(ListenAddress listen, PrometheusMeterRegistry registry) {
        this.listen = listen;
        this.registry = registry;
    }

    @Override
    public String name() {
        return "metrics";
    }

    @Override
    public void start() throws IOException {
        HttpServer s = HttpServer.create();
        s.bind(listen.toSocketAddress(), 16);
        s.createContext("/metrics", this::metrics);
        s.createContext("/", exchange -> respond(exchange, 404, "text/plain; charset=utf-8", "not found\n"));
        executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mailproxy-metrics");
            t.setDaemon(true);
            return t;
        });
        s.setExecutor(executor);
        s.start();
        server = s;
    }

    private void metrics(HttpExchange exchange) throws IOException {
        if (!"/metrics".equals(exchange.getRequestURI().getPath())) {
            respond(exchange, 404, "text/plain; charset=utf-8", "not found\n");
            return;
        }
        if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "GET, HEAD");
            respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
            return;
        }
        respond(exchange, 200, CONTENT_TYPE, registry.scrape());
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
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
        // A scrape takes milliseconds; stopping happens in drainAndClose.
    }

    @Override
    public CompletionStage<Void> drainAndClose(Duration grace) {
        if (server != null) {
            server.stop(0);
            executor.shutdownNow();
            server = null;
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public int activeSessions() {
        return 0;
    }
}
