package org.mailproxy.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters one protocol side reports, all tagged {@code protocol=imap|smtp}. The catalogue is in the README:
 * <ul>
 *   <li>{@code mailproxy.sessions.active} (gauge), {@code mailproxy.sessions} (counter, total opened)</li>
 *   <li>{@code mailproxy.upstream.connect} and {@code mailproxy.upstream.tls.handshake} (timers)</li>
 *   <li>{@code mailproxy.bytes} (counter, tag {@code direction=to_upstream|to_client})</li>
 *   <li>{@code mailproxy.auth.failures}, {@code mailproxy.tls.failures} (counters, tag {@code side=client|upstream})</li>
 *   <li>{@code mailproxy.protocol.errors} (counter: framing errors and limits hit by clients or upstreams)</li>
 * </ul>
 */
public final class ProxyMetrics {

    private final AtomicInteger active = new AtomicInteger();
    private final Counter sessions;
    private final Timer upstreamConnect;
    private final Timer upstreamHandshake;
    private final Counter bytesToUpstream;
    private final Counter bytesToClient;
    private final Counter authFailures;
    private final Counter clientTlsFailures;
    private final Counter upstreamTlsFailures;
    private final Counter protocolErrors;

    public ProxyMetrics(MeterRegistry registry, String protocol) {
        Gauge.builder("mailproxy.sessions.active", active, AtomicInteger::get)
                .description("Client sessions open now").tag("protocol", protocol).register(registry);
        sessions = Counter.builder("mailproxy.sessions").description("Client sessions opened")
                .tag("protocol", protocol).register(registry);
        upstreamConnect = Timer.builder("mailproxy.upstream.connect").description("TCP connect time to the provider")
                .tag("protocol", protocol).register(registry);
        upstreamHandshake = Timer.builder("mailproxy.upstream.tls.handshake").description("TLS handshake time with the provider")
                .tag("protocol", protocol).register(registry);
        bytesToUpstream = Counter.builder("mailproxy.bytes").baseUnit("bytes").description("Bytes relayed")
                .tag("protocol", protocol).tag("direction", "to_upstream").register(registry);
        bytesToClient = Counter.builder("mailproxy.bytes").baseUnit("bytes").description("Bytes relayed")
                .tag("protocol", protocol).tag("direction", "to_client").register(registry);
        authFailures = Counter.builder("mailproxy.auth.failures").description("Logins refused: by the provider, or a wrong local password")
                .tag("protocol", protocol).register(registry);
        clientTlsFailures = Counter.builder("mailproxy.tls.failures").description("Failed TLS handshakes")
                .tag("protocol", protocol).tag("side", "client").register(registry);
        upstreamTlsFailures = Counter.builder("mailproxy.tls.failures").description("Failed TLS handshakes")
                .tag("protocol", protocol).tag("side", "upstream").register(registry);
        protocolErrors = Counter.builder("mailproxy.protocol.errors").description("Framing errors and limits hit")
                .tag("protocol", protocol).register(registry);
    }

    /** Meters that go nowhere, for tests and tools. */
    public static ProxyMetrics noop(String protocol) {
        return new ProxyMetrics(new SimpleMeterRegistry(), protocol);
    }

    public void sessionOpened() {
        active.incrementAndGet();
        sessions.increment();
    }

    public void sessionClosed() {
        active.decrementAndGet();
    }

    public int activeSessions() {
        return active.get();
    }

    public void upstreamConnected(Duration took) {
        upstreamConnect.record(took);
    }

    public void upstreamHandshake(Duration took) {
        upstreamHandshake.record(took);
    }

    public void bytesToUpstream(long n) {
        bytesToUpstream.increment(n);
    }

    public void bytesToClient(long n) {
        bytesToClient.increment(n);
    }

    public void authFailure() {
        authFailures.increment();
    }

    public void clientTlsFailure() {
        clientTlsFailures.increment();
    }

    public void upstreamTlsFailure() {
        upstreamTlsFailures.increment();
    }

    public void protocolError() {
        protocolErrors.increment();
    }
}
