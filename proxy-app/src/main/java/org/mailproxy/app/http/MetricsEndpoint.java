package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;

/** {@code GET /metrics}: the Prometheus text exposition of every meter (docs/METRICS.md lists them). */
public final class MetricsEndpoint implements Endpoint {

    /** Prometheus text format 0.0.4, what every scraper accepts. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    public MetricsEndpoint(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public boolean serves(String path) {
        return "/metrics".equals(path);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        if (Exchanges.readOnly(exchange)) {
            Exchanges.respond(exchange, 200, CONTENT_TYPE, registry.scrape());
        }
    }
}
