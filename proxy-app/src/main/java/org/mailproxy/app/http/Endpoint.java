package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;

/**
 * One concern of the {@link HttpListener}: the paths it answers and how. An endpoint that holds resources (threads,
 * connections) also implements {@link AutoCloseable}; the listener closes it when it stops.
 */
interface Endpoint {

    /** Whether this endpoint answers {@code path} (the decoded path of the request URI). */
    boolean serves(String path);

    /** Answers one request; the exchange is closed by the time this returns. */
    void handle(HttpExchange exchange) throws IOException;
}
