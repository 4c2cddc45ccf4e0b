package org.mailproxy.app.systemd;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.DomainDatagramSocketAddress;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.Socket;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.awaitility.Awaitility;

/**
 * A service manager's end of {@code $NOTIFY_SOCKET} for tests: a real Unix datagram socket, bound to a file or to an
 * abstract name ({@code @name}), that collects the datagrams it receives.
 */
public final class NotifySocket implements AutoCloseable {

    private final Socket socket;
    private final String name;
    private final List<String> received = new CopyOnWriteArrayList<>();

    private NotifySocket(String name, String kernelPath) throws IOException {
        Epoll.ensureAvailability();
        this.name = name;
        this.socket = Socket.newSocketDomainDgram();
        socket.bind(new DomainSocketAddress(kernelPath));
    }

    /** Bound to a socket file. */
    public static NotifySocket atPath(java.nio.file.Path path) throws IOException {
        return new NotifySocket(path.toString(), path.toString());
    }

    /** Bound to {@code @name} in the abstract namespace. */
    public static NotifySocket abstractName(String name) throws IOException {
        return new NotifySocket("@" + name, "\0" + name);
    }

    /** What {@code $NOTIFY_SOCKET} is set to for the process under test. */
    public String notifySocket() {
        return name;
    }

    /** Waits until {@code count} datagrams arrived and returns all received so far. */
    public List<String> await(int count) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
            drain();
            return received.size() >= count;
        });
        return List.copyOf(received);
    }

    /** The datagrams received so far. */
    public List<String> received() throws IOException {
        drain();
        return List.copyOf(received);
    }

    private synchronized void drain() throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(4096);
        while (true) {
            buffer.clear();
            DomainDatagramSocketAddress from = socket.recvFromDomainSocket(buffer, 0, buffer.capacity());
            if (from == null) {
                return;
            }
            int length = from.receivedAmount();
            byte[] bytes = new byte[length];
            buffer.get(0, bytes);
            received.add(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
