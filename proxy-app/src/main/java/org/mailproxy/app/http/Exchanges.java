package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Writing answers, the same way for every endpoint. */
final class Exchanges {

    static final String TEXT = "text/plain; charset=utf-8";

    private Exchanges() {
    }

    /**
     * True for GET and HEAD, the only methods the listener serves (everything it has is read-only). Anything else
     * is answered 405 with {@code Allow} here (RFC 9110 15.5.6), and the caller returns.
     */
    static boolean readOnly(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        if ("GET".equals(method) || "HEAD".equals(method)) {
            return true;
        }
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, TEXT, "method not allowed\n");
        return false;
    }

    /** Whether the request came from this machine's loopback address. */
    static boolean fromLoopback(HttpExchange exchange) {
        java.net.InetSocketAddress peer = exchange.getRemoteAddress();
        return peer != null && peer.getAddress() != null && peer.getAddress().isLoopbackAddress();
    }

    /** Sends {@code body} (without it for HEAD, with the same headers) and closes the exchange. */
    static void respond(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        try (exchange) {
            // A request body is never read (nothing here takes one): closing the exchange discards a small one and
            // closes the connection after a large one, so a huge POST costs no memory.
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", contentType);
            // Answers are made per request from live state; a cache in between would only show stale data.
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = "HEAD".equals(exchange.getRequestMethod());
            exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }
}
