package org.mailproxy.app;

import org.mailproxy.config.ListenAddress;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.ProxyService;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A listener that binds its port for real (so taken ports and shutdown order can be tested without a relay) and
 * records what the daemon asks of it.
 */
final class FakeListener implements ProxyService {

    final String name;
    final ListenAddress listen;
    final ProxyMetrics metrics;
    final List<String> calls = new CopyOnWriteArrayList<>();
    /** Completed by the test to simulate a transaction still in flight. */
    volatile CompletableFuture<Void> drained = CompletableFuture.completedFuture(null);
    private ServerSocket socket;

    FakeListener(String name, ProxyContext context, ListenAddress listen) {
        this.name = name;
        this.listen = listen;
        this.metrics = new ProxyMetrics(context.meters(), name);
    }

    static FakeListener imap(ProxyContext c) {
        return new FakeListener("imap", c, c.config().imap().listen());
    }

    static FakeListener smtp(ProxyContext c) {
        return new FakeListener("smtp", c, c.config().smtp().listen());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void start() throws IOException {
        calls.add("start");
        ServerSocket s = new ServerSocket();
        try {
            s.bind(listen.toSocketAddress());
        } catch (IOException e) {
            s.close();
            throw e;
        }
        socket = s;
    }

    @Override
    public InetSocketAddress boundAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public void stopAccepting() {
        calls.add("stopAccepting");
    }

    @Override
    public CompletionStage<Void> drainAndClose(Duration grace) {
        calls.add("drainAndClose " + grace);
        return drained.whenComplete((v, e) -> {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a server socket that failed is not a test failure
            }
        });
    }

    @Override
    public int activeSessions() {
        return metrics.activeSessions();
    }

    boolean closed() {
        return socket != null && socket.isClosed();
    }
}
