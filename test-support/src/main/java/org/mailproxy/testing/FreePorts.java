package org.mailproxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Free TCP ports on loopback, chosen by the kernel. A port is free when returned; another process may take it
 * before the caller binds it, which is rare enough for tests (the kernel hands out ephemeral ports in turn).
 */
public final class FreePorts {

    private FreePorts() {
    }

    /** One free loopback port. */
    public static int pick() {
        return pick(1).get(0);
    }

    /** {@code count} distinct free loopback ports (all sockets stay open until all are chosen). */
    public static List<Integer> pick(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket();
                sockets.add(socket);
                socket.setReuseAddress(false);
                socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                ports.add(socket.getLocalPort());
            }
            return List.copyOf(ports);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pick a free port", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // nothing listens on it
                }
            }
        }
    }
}
