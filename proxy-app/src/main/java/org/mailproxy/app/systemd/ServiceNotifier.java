package org.mailproxy.app.systemd;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Tells the service manager about the daemon's state, as {@code sd_notify(3)} does: one datagram per state change
 * to the Unix datagram socket named by {@code $NOTIFY_SOCKET}. A unit with {@code Type=notify} is "active" only once
 * {@code READY=1} arrived, so clients started after the proxy find its ports bound; {@code STOPPING=1} tells the
 * manager the drain on SIGTERM has begun.
 *
 * <p>Why in-process: systemd attributes a notification to the process whose credentials the kernel attaches to the
 * datagram; a short-lived child such as {@code systemd-notify} may exit before systemd looks it up, and its message
 * is then dropped ({@code NotifyAccess=main} refuses it anyway). Java 17 has Unix stream sockets but no datagram
 * sockets, so the datagram is sent through Netty's native Unix socket (the epoll transport's JNI library), loaded
 * only when {@code $NOTIFY_SOCKET} is set.
 *
 * <p>Addresses (sd_notify(3)): an absolute path names a socket file; a leading {@code @} names a socket in the
 * abstract namespace (the {@code @} becomes a NUL byte). Anything else, such as {@code vsock:}, is not supported;
 * the notifier then logs one warning and does nothing. Failures to send are logged, never thrown: the proxy keeps
 * serving, and systemd reports the start as timed out.
 */
public abstract class ServiceNotifier {

    /** The notifier of a process not started by systemd (or started with another {@code Type=}). */
    public static final ServiceNotifier NONE = new ServiceNotifier() {
        @Override
        void send(String message) {
        }
    };

    private static final Logger LOG = LoggerFactory.getLogger(ServiceNotifier.class);
    /** sockaddr_un.sun_path on Linux; a name that does not fit cannot be addressed. */
    private static final int MAX_ADDRESS = 108;

    ServiceNotifier() {
    }

    /** The notifier for {@code $NOTIFY_SOCKET} in {@code environment}, or {@link #NONE} when it is unset or unusable. */
    public static ServiceNotifier fromEnvironment(Map<String, String> environment) {
        String socket = environment.get("NOTIFY_SOCKET");
        if (socket == null || socket.isEmpty()) {
            return NONE;
        }
        byte[] address;
        try {
            address = address(socket);
        } catch (IllegalArgumentException e) {
            LOG.warn("NOTIFY_SOCKET {}: {}; the service manager will not hear that mailproxy is ready", socket,
                    e.getMessage());
            return NONE;
        }
        if (!Epoll.isAvailable()) {
            LOG.warn("NOTIFY_SOCKET is set but Unix datagram sockets are unavailable ({}); the service manager will "
                    + "not hear that mailproxy is ready", Epoll.unavailabilityCause().toString());
            return NONE;
        }
        return new Datagram(socket, address);
    }

    /**
     * The socket address bytes for sockaddr_un.sun_path: the path itself, or for {@code @name} a NUL byte and the
     * name, whose length (not a terminating NUL) delimits it (unix(7), "abstract").
     */
    static byte[] address(String notifySocket) {
        byte[] bytes;
        if (notifySocket.startsWith("/")) {
            bytes = notifySocket.getBytes(StandardCharsets.UTF_8);
        } else if (notifySocket.startsWith("@") && notifySocket.length() > 1) {
            bytes = notifySocket.getBytes(StandardCharsets.UTF_8);
            bytes[0] = 0;
        } else {
            throw new IllegalArgumentException("neither an absolute path nor an abstract socket name (@name)");
        }
        if (bytes.length >= MAX_ADDRESS) {
            throw new IllegalArgumentException("longer than a Unix socket address can be");
        }
        return bytes;
    }

    /** {@code READY=1}: every listener is bound. {@code status} is what {@code systemctl status} shows. */
    public final void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status) + "\n");
    }

    /** {@code STOPPING=1}: the daemon stopped accepting and drains its sessions. */
    public final void stopping(String status) {
        send("STOPPING=1\nSTATUS=" + oneLine(status) + "\n");
    }

    /** A variable assignment is one line (sd_notify(3)); a newline in the text would start another assignment. */
    private static String oneLine(String status) {
        return status.replaceAll("[\\r\\n]+", " ");
    }

    abstract void send(String message);

    /** One datagram per message to the manager's socket, from a socket that is opened and closed each time. */
    private static final class Datagram extends ServiceNotifier {

        /** How often a datagram the kernel could not queue at once (EAGAIN) is tried again, 10 ms apart. */
        private static final int ATTEMPTS = 50;

        private final String name;
        private final byte[] address;

        Datagram(String name, byte[] address) {
            this.name = name;
            this.address = address;
        }

        @Override
        synchronized void send(String message) {
            byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
            ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            Socket socket = null;
            try {
                socket = Socket.newSocketDomainDgram();
                for (int attempt = 1; ; attempt++) {
                    // Netty's sockets are non-blocking: 0 means the manager's queue is full for now.
                    int sent = socket.sendToDomainSocket(buffer, 0, bytes.length, address);
                    if (sent == bytes.length) {
                        LOG.debug("told the service manager {}", message.lines().findFirst().orElse(""));
                        return;
                    }
                    if (sent > 0 || attempt == ATTEMPTS) {
                        throw new IOException(sent > 0 ? "datagram truncated" : "the socket stays busy");
                    }
                    Thread.sleep(10);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot notify the service manager at {}: {}", name, e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException ignored) {
                        // nothing was left to send
                    }
                }
            }
        }
    }
}
