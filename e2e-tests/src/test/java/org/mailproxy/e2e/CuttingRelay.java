package org.mailproxy.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on loopback between the proxy and the provider that can cut a connection after a given number of
 * octets from the proxy: the provider's connection breaking in the middle of a message, with TLS intact until then
 * (the relay sees only ciphertext, so it counts octets). Cutting resets both sides (SO_LINGER 0), as a dropped
 * route or a crashed server would look.
 */
final class CuttingRelay implements AutoCloseable {

    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    /** Octets from the proxy after which a connection is cut; negative: never. */
    private final AtomicLong cutAfter = new AtomicLong(-1);
    private final AtomicInteger cuts = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    CuttingRelay(String targetHost, int targetPort) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.acceptor = new Thread(this::acceptLoop, "cutting-relay-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** Cut each new or running connection once it has carried this many octets from the proxy; negative: never. */
    void cutAfter(long octets) {
        cutAfter.set(octets);
    }

    /** How many connections were cut so far. */
    int cuts() {
        return cuts.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(targetHost, targetPort);
                open.add(client);
                open.add(upstream);
                AtomicLong fromProxy = new AtomicLong();
                start(client, upstream, fromProxy, true);
                start(upstream, client, fromProxy, false);
            } catch (IOException e) {
                if (!server.isClosed()) {
                    throw new IllegalStateException("relay cannot accept", e);
                }
            }
        }
    }

    private void start(Socket from, Socket to, AtomicLong fromProxy, boolean counting) {
        Thread t = new Thread(() -> pump(from, to, fromProxy, counting), "cutting-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    private void pump(Socket from, Socket to, AtomicLong fromProxy, boolean counting) {
        byte[] buf = new byte[8192];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                long limit = cutAfter.get();
                if (counting && limit >= 0 && fromProxy.get() + n > limit) {
                    int allowed = (int) Math.max(0, limit - fromProxy.get());
                    out.write(buf, 0, allowed);
                    out.flush();
                    cut(from, to);
                    return;
                }
                out.write(buf, 0, n);
                out.flush();
                if (counting) {
                    fromProxy.addAndGet(n);
                }
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void cut(Socket a, Socket b) {
        cuts.incrementAndGet();
        for (Socket s : new Socket[]{a, b}) {
            try {
                s.setSoLinger(true, 0);
            } catch (SocketException ignored) {
                // already closed
            }
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        open.forEach(CuttingRelay::closeQuietly);
    }
}
