package org.mailproxy.app.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.core.metrics.ProxyMetrics;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP listener with its {@code /metrics} endpoint: Prometheus text with the proxy's meters, GET and HEAD only,
 * 404 for paths no endpoint serves.
 */
class HttpListenerTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private HttpListener server;
    private URI base;

    @BeforeEach
    void start() throws Exception {
        server = new HttpListener(new ListenAddress("127.0.0.1", 0), List.of(new MetricsEndpoint(registry)));
        server.start();
        base = URI.create("http://127.0.0.1:" + server.boundAddress().getPort());
    }

    @AfterEach
    void stop() {
        server.drainAndClose(Duration.ZERO);
        registry.close();
    }

    private HttpResponse<String> send(String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void servesPrometheusTextWithTheSessionMeters() throws Exception {
        ProxyMetrics imap = new ProxyMetrics(registry, "imap");
        new ProxyMetrics(registry, "smtp");
        imap.sessionOpened();
        imap.sessionOpened();
        imap.sessionClosed();

        HttpResponse<String> r = send("GET", "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(MetricsEndpoint.CONTENT_TYPE);
        assertThat(r.body())
                .contains("# TYPE mailproxy_sessions_total counter")
                .contains("mailproxy_sessions_total{protocol=\"imap\"} 2.0")
                .contains("mailproxy_sessions_active{protocol=\"imap\"} 1.0")
                .contains("mailproxy_sessions_total{protocol=\"smtp\"} 0.0");
    }

    @Test
    void headHasNoBodyAndOtherMethodsAndPathsAreRefused() throws Exception {
        assertThat(send("HEAD", "/metrics").statusCode()).isEqualTo(200);
        HttpResponse<String> post = send("POST", "/metrics");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(send("GET", "/").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/admin").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/metricsx").statusCode()).isEqualTo(404);
        assertThat(send("GET", "/metrics/").statusCode()).isEqualTo(404);
    }

    @Test
    void aLargeRequestBodyIsNotReadIntoMemory() throws Exception {
        // 64 MiB announced and sent in part: the answer comes without the body being read, and the server goes on.
        try (java.net.Socket s = new java.net.Socket(base.getHost(), base.getPort())) {
            s.setSoTimeout(10_000);
            var out = s.getOutputStream();
            out.write(("POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 67108864\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.write(new byte[128 * 1024]);
            out.flush();
            String head = new String(s.getInputStream().readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 405");
        }
        assertThat(send("GET", "/metrics").statusCode()).isEqualTo(200);
    }

    @Test
    void afterCloseThePortIsFree() throws Exception {
        int port = server.boundAddress().getPort();
        server.drainAndClose(Duration.ZERO);
        try (var s = new java.net.ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        }
    }
}
