package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's control socket, {@code data-dir/control.sock}: how {@code mailproxy keys unlock} hands a typed
 * passphrase to the running daemon without it ever being in argv, the environment or a file (SECURITY.md 23).
 *
 * <p>A Unix domain socket inside the owner-only data directory, itself mode 0600: only the user who runs the daemon
 * can reach it (the kernel checks the directory's search permission and the socket's write permission on connect).
 * A socket file left by a daemon that crashed is replaced at start; one that still answers means another daemon
 * uses this data directory, and the start is refused. The file is removed on {@link #close()}.
 *
 * <p>Protocol: one request per connection, one line of UTF-8 ending in LF, at most {@value #MAX_LINE} bytes with
 * the LF. The answer is zero or more data lines and a last line that starts with {@code OK} or {@code ERR}; then the
 * daemon closes the connection.
 * <pre>
 *   STATUS                        ACCOUNT &lt;email&gt; &lt;state&gt; [&lt;fingerprint&gt;]   (one per account)
 *                                 OK
 *   UNLOCK &lt;email&gt; &lt;passphrase&gt;   OK &lt;fingerprint&gt;
 *                                 ERR wrong-passphrase
 *                                 ERR no-such-account
 *                                 ERR no-key &lt;what to do&gt;
 *                                 ERR several-keys &lt;what to do&gt;
 *   (anything else)               ERR bad-request
 *   (no LF within the limit)      ERR line-too-long
 * </pre>
 * {@code <state>} is {@code unlocked}, {@code locked}, {@code no-key} or {@code several-keys}. The passphrase is
 * every byte after the second space (it may hold spaces). A client that sends no complete line within
 * {@link #DEFAULT_DEADLINE} is disconnected; at most {@value #WORKERS} requests are served at once and
 * {@value #QUEUE} wait, further connections are closed at once. The request line is never logged, and its buffer
 * and the decoded passphrase are wiped after use.
 */
final class ControlSocket implements AutoCloseable {

    static final String FILE_NAME = "control.sock";
    static final int MAX_LINE = 4096;
    static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);
    private static final int WORKERS = 2;
    private static final int QUEUE = 8;
    private static final int MAX_EMAIL = 320;

    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);

    private final Path path;
    private final AccountKeys keys;
    private final Duration deadline;
    private final ServerSocketChannel server;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService timer;
    private final Thread acceptor;
    private volatile boolean closed;

    private ControlSocket(Path path, AccountKeys keys, Duration deadline, ServerSocketChannel server) {
        this.path = path;
        this.keys = keys;
        this.deadline = deadline;
        this.server = server;
        this.workers = new ThreadPoolExecutor(WORKERS, WORKERS, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                r -> daemonThread(r, "mailproxy-control"));
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemonThread(r, "mailproxy-control-timer"));
        this.acceptor = daemonThread(this::acceptLoop, "mailproxy-control-accept");
    }

    /** The socket's path in {@code dataDir}. */
    static Path path(Path dataDir) {
        return dataDir.resolve(FILE_NAME);
    }

    /** Binds {@code data-dir/control.sock} (replacing a stale one) and starts serving. */
    static ControlSocket start(MailproxyConfig config, Path dataDir, AccountKeys keys) {
        return start(config, dataDir, keys, DEFAULT_DEADLINE);
    }

    static ControlSocket start(MailproxyConfig config, Path dataDir, AccountKeys keys, Duration deadline) {
        Path path = path(dataDir);
        String setting = config.describe("mailproxy.data-dir");
        try {
            removeStale(path);
        } catch (IOException e) {
            throw new ConfigError(setting + ": " + e.getMessage(), e);
        }
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path), QUEUE);
            // bind creates the file with the process umask; the 0700 directory already keeps others out, and the
            // socket is narrowed to its owner as well before anyone is served
            if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            closeQuietly(server);
            deleteQuietly(path);
            throw new ConfigError(setting + ": cannot create the control socket " + path + ": " + e.getMessage()
                    + (path.toString().length() > 100 ? " (a Unix socket path is limited to about 100 bytes; choose "
                    + "a shorter data-dir)" : ""), e);
        }
        ControlSocket s = new ControlSocket(path, keys, deadline, server);
        s.acceptor.start();
        return s;
    }

    /**
     * Deletes a socket file that nobody answers on (a daemon that crashed left it). One that answers belongs to a
     * running daemon; anything that is not a socket is not ours to delete.
     */
    private static void removeStale(Path path) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        if (!attrs.isOther()) {
            throw new IOException(path + " exists and is not a socket; remove it");
        }
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new IOException("another mailproxy is running with this data directory (" + path + " answers)");
        } catch (ConnectException e) {
            Files.deleteIfExists(path);
            LOG.info("control socket {} was left by a daemon that stopped; replaced", path);
        }
    }

    Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("control socket: accept failed: {}", e.toString());
                }
                return;
            }
            try {
                workers.execute(() -> serve(client));
            } catch (RejectedExecutionException e) {
                closeQuietly(client);
            }
        }
    }

    private void serve(SocketChannel client) {
        ScheduledFuture<?> kill = timer.schedule(() -> closeQuietly(client), deadline.toMillis(), TimeUnit.MILLISECONDS);
        byte[] line = new byte[MAX_LINE];
        try (client) {
            int n = readLine(client, line);
            if (n < 0) {
                return; // closed before a full line: nothing to answer
            }
            if (n == MAX_LINE) {
                write(client, "ERR line-too-long\n");
                LOG.warn("control socket: request line over {} bytes refused", MAX_LINE);
                // Closing with unread input would reset the connection and lose the answer: read on a little,
                // still under the deadline.
                client.shutdownOutput();
                discard(client, 16 * MAX_LINE);
                return;
            }
            kill.cancel(false);
            write(client, answer(line, n));
        } catch (AsynchronousCloseException e) {
            if (closed) {
                return;
            }
            LOG.warn("control socket: client sent no complete request within {}s; disconnected", deadline.toSeconds());
        } catch (IOException e) {
            LOG.debug("control socket: {}", e.toString());
        } finally {
            kill.cancel(false);
            Arrays.fill(line, (byte) 0);
        }
    }

    /**
     * Reads up to the first LF into {@code line}; returns its length without the LF, {@link #MAX_LINE} when no LF
     * came within the limit, or -1 when the client closed first.
     */
    private static int readLine(SocketChannel client, byte[] line) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(line);
        int scanned = 0;
        while (buf.hasRemaining()) {
            if (client.read(buf) < 0) {
                return -1;
            }
            for (; scanned < buf.position(); scanned++) {
                if (line[scanned] == '\n') {
                    return scanned;
                }
            }
        }
        return MAX_LINE;
    }

    private static void discard(SocketChannel client, int limit) throws IOException {
        ByteBuffer sink = ByteBuffer.allocate(MAX_LINE);
        int total = 0;
        while (total < limit) {
            sink.clear();
            int r = client.read(sink);
            if (r < 0) {
                return;
            }
            total += r;
        }
    }

    private String answer(byte[] line, int n) {
        if (n == 6 && startsWith(line, n, "STATUS")) {
            StringBuilder sb = new StringBuilder();
            for (AccountKeys.Status s : keys.statuses()) {
                sb.append("ACCOUNT ").append(s.email()).append(' ').append(stateWord(s.state()));
                s.fingerprint().ifPresent(f -> sb.append(' ').append(f));
                sb.append('\n');
            }
            return sb.append("OK\n").toString();
        }
        if (startsWith(line, n, "UNLOCK ")) {
            int sp = indexOf(line, 7, n, (byte) ' ');
            if (sp < 0 || sp == 7 || sp - 7 > MAX_EMAIL || sp + 1 >= n) {
                return "ERR bad-request\n";
            }
            String email = new String(line, 7, sp - 7, StandardCharsets.UTF_8);
            if (!email.matches("[^@\\s]+@[^@\\s]+")) {
                return "ERR bad-request\n";
            }
            char[] pass;
            try {
                pass = decode(line, sp + 1, n);
            } catch (CharacterCodingException e) {
                return "ERR bad-request\n";
            }
            try {
                // the registry wipes the copy it is handed; this one is wiped below
                String fpr = keys.unlock(email, pass::clone).fingerprint();
                LOG.info("account {}: key {} unlocked through the control socket", email, fpr);
                return "OK " + fpr + "\n";
            } catch (KeyException e) {
                AccountKeys.Failure f = AccountKeys.failure(e).orElse(AccountKeys.Failure.NO_SECRET_KEY);
                LOG.warn("control socket: {}", e.getMessage());
                return switch (f) {
                    case WRONG_PASSPHRASE -> "ERR wrong-passphrase\n";
                    case NO_SUCH_ACCOUNT -> "ERR no-such-account\n";
                    case SEVERAL_KEYS -> "ERR several-keys " + oneLine(e.getMessage()) + "\n";
                    default -> "ERR no-key " + oneLine(e.getMessage()) + "\n";
                };
            } finally {
                Arrays.fill(pass, '\0');
            }
        }
        return "ERR bad-request\n";
    }

    static String stateWord(AccountKeys.State s) {
        return switch (s) {
            case UNLOCKED -> "unlocked";
            case LOCKED -> "locked";
            case SEVERAL_KEYS -> "several-keys";
            case NO_SECRET_KEY, NO_SUCH_ACCOUNT -> "no-key";
        };
    }

    /** Strict UTF-8 into a fresh array; the decoder's buffer is wiped. */
    private static char[] decode(byte[] line, int from, int to) throws CharacterCodingException {
        CharBuffer cb = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line, from, to - from));
        try {
            char[] out = new char[cb.remaining()];
            cb.get(out);
            return out;
        } finally {
            Arrays.fill(cb.array(), '\0');
        }
    }

    private static boolean startsWith(byte[] line, int n, String prefix) {
        if (n < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] line, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (line[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ').replace('\r', ' ');
    }

    private static void write(SocketChannel client, String text) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
            client.write(out);
        }
    }

    /** Stops serving and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        workers.shutdownNow();
        timer.shutdownNow();
        try {
            acceptor.join(2000);
            workers.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteQuietly(path);
    }

    private static Thread daemonThread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", p, e.toString());
        }
    }
}
