package org.mailproxy.smtp;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A scripted upstream SMTP server for what GreenMail cannot do: no STARTTLS offered, data injected after the
 * STARTTLS reply, a refused recipient, a drop mid-DATA, a held final reply. Blocking sockets, a thread per
 * connection. Records every command line and every message exactly as received (still dot-stuffed).
 */
final class FakeSmtpServer implements AutoCloseable {

    static final class Options {
        boolean implicitTls = true;
        boolean offerStartTls = true;
        boolean injectAfterStartTls;
        boolean smtpUtf8;
        long size = 0;
        SSLContext ssl = TestPki.serverContext(TestPki.TRUSTED_P12);
        Map<String, String> users = Map.of("alice", "secret");
        Set<String> refusedRecipients = Set.of();
        /** Accepted the first time they are given, refused every later time (a copy's own transaction). */
        Set<String> refusedWhenRepeated = Set.of();
        /** Messages after this many get 554 after their data. */
        int acceptMessages = Integer.MAX_VALUE;
        /** Close the connection after this many octets of DATA; -1: never. */
        int dropAfterDataBytes = -1;
        /** When set, the reply after the end of data waits for this latch. */
        CountDownLatch holdFinalReply;
        /** Signalled when a message's data has been fully received (before the final reply). */
        CountDownLatch dataReceived;
        /** Never answer DATA's end: for the upstream-reply deadline. */
        boolean silentAfterData;
        /** Stop reading DATA after this many octets until {@link #resumeReading} opens; -1: never. */
        int pauseAfterDataBytes = -1;
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resumeReading = new CountDownLatch(1);
        /** Keep only the length and SHA-256 of each message (for big ones). */
        boolean digestOnly;
    }

    final Options options;
    final List<String> commands = new CopyOnWriteArrayList<>();
    private final Set<String> recipientsSeen = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final List<byte[]> messages = new CopyOnWriteArrayList<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> digests = new CopyOnWriteArrayList<>();
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Socket> open = Collections.synchronizedList(new ArrayList<>());

    FakeSmtpServer(Options options) throws IOException {
        this.options = options;
        if (options.implicitTls) {
            SSLServerSocket s = (SSLServerSocket) options.ssl.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            server = s;
        } else {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        }
        threads.execute(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    String url() {
        return (options.implicitTls ? "smtps" : "smtp+starttls") + "://127.0.0.1:" + port();
    }

    String messageText(int i) {
        return new String(messages.get(i), StandardCharsets.ISO_8859_1);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                threads.execute(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try {
            new Connection(socket).run();
        } catch (IOException e) {
            events.add("connection ended: " + e.getClass().getSimpleName());
        } finally {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private final class Connection {
        Socket socket;
        InputStream in;
        OutputStream out;
        boolean tls;

        Connection(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new BufferedInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
            this.tls = options.implicitTls;
        }

        void run() throws IOException {
            write("220 fake.example ESMTP\r\n");
            String line;
            while ((line = readLine()) != null) {
                commands.add(line + (tls ? "" : " [plain]"));
                String verb = (line.contains(" ") ? line.substring(0, line.indexOf(' ')) : line).toUpperCase();
                switch (verb) {
                    case "EHLO" -> {
                        StringBuilder b = new StringBuilder("250-fake.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n");
                        if (!tls && options.offerStartTls) {
                            b.append("250-STARTTLS\r\n");
                        }
                        if (options.smtpUtf8) {
                            b.append("250-SMTPUTF8\r\n");
                        }
                        if (options.size > 0) {
                            b.append("250-SIZE ").append(options.size).append("\r\n");
                        }
                        b.append("250 AUTH PLAIN LOGIN\r\n");
                        write(b.toString());
                    }
                    case "STARTTLS" -> {
                        if (tls || !options.offerStartTls) {
                            write("502 5.5.1 no\r\n");
                            break;
                        }
                        write(options.injectAfterStartTls ? "220 2.0.0 go ahead\r\n250 injected\r\n" : "220 2.0.0 go ahead\r\n");
                        SSLSocket s = (SSLSocket) options.ssl.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
                        s.setUseClientMode(false);
                        s.startHandshake();
                        socket = s;
                        in = new BufferedInputStream(s.getInputStream());
                        out = s.getOutputStream();
                        tls = true;
                    }
                    case "AUTH" -> auth(line);
                    case "MAIL" -> write("250 2.1.0 Ok\r\n");
                    case "RCPT" -> {
                        String to = line.substring(line.indexOf('<') + 1, line.indexOf('>'));
                        boolean repeated = !recipientsSeen.add(to);
                        write(options.refusedRecipients.contains(to)
                                || repeated && options.refusedWhenRepeated.contains(to)
                                ? "550 5.1.1 <" + to + ">: Recipient address rejected: User unknown\r\n"
                                : "250 2.1.5 Ok\r\n");
                    }
                    case "DATA" -> {
                        write("354 End data with <CR><LF>.<CR><LF>\r\n");
                        byte[] message = readData();
                        if (message == null) {
                            events.add("dropped mid-DATA");
                            socket.close();
                            return;
                        }
                        messages.add(message);
                        if (options.dataReceived != null) {
                            options.dataReceived.countDown();
                        }
                        if (options.silentAfterData) {
                            events.add("silent");
                            continue;
                        }
                        if (options.holdFinalReply != null) {
                            try {
                                options.holdFinalReply.await(20, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        if (messages.size() > options.acceptMessages) {
                            messages.remove(messages.size() - 1);
                            write("554 5.7.1 Message rejected as spam\r\n");
                            continue;
                        }
                        write("250 2.0.0 Ok: queued as F4KE\r\n");
                    }
                    case "RSET", "NOOP" -> write("250 2.0.0 Ok\r\n");
                    case "VRFY" -> write("252 2.0.0 maybe\r\n");
                    case "QUIT" -> {
                        write("221 2.0.0 Bye\r\n");
                        return;
                    }
                    default -> write("502 5.5.2 Error: command not recognized\r\n");
                }
            }
            events.add("client closed");
        }

        void auth(String line) throws IOException {
            String[] parts = line.split(" ");
            String mech = parts[1].toUpperCase();
            String user;
            String pass;
            if (mech.equals("PLAIN")) {
                String ir = parts.length > 2 ? parts[2] : null;
                if (ir == null) {
                    write("334 \r\n");
                    ir = readLine();
                }
                String[] f = new String(Base64.getDecoder().decode(ir), StandardCharsets.UTF_8).split("\0", -1);
                user = f[1];
                pass = f[2];
            } else if (mech.equals("LOGIN")) {
                String u = parts.length > 2 ? parts[2] : null;
                if (u == null) {
                    write("334 VXNlcm5hbWU6\r\n");
                    u = readLine();
                }
                write("334 UGFzc3dvcmQ6\r\n");
                String p = readLine();
                user = new String(Base64.getDecoder().decode(u), StandardCharsets.UTF_8);
                pass = new String(Base64.getDecoder().decode(p), StandardCharsets.UTF_8);
            } else {
                write("504 5.5.4 unsupported\r\n");
                return;
            }
            events.add("auth " + user + (tls ? " over TLS" : " IN THE CLEAR"));
            write(pass.equals(options.users.get(user)) ? "235 2.7.0 Authentication successful\r\n"
                    : "535 5.7.8 Error: authentication failed\r\n");
        }

        /** The DATA octets up to (not including) the final ".CRLF"; null when the drop option fires. */
        byte[] readData() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            java.security.MessageDigest sha;
            try {
                sha = java.security.MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            if (options.digestOnly) {
                return readDataFast(sha);
            }
            int[] last = {'\r', '\n', 0, 0, 0};
            int n = 0;
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return null;
                }
                if (options.digestOnly) {
                    sha.update((byte) c);
                } else {
                    b.write(c);
                }
                n++;
                if (options.dropAfterDataBytes >= 0 && n >= options.dropAfterDataBytes) {
                    return null;
                }
                if (n == options.pauseAfterDataBytes) {
                    options.paused.countDown();
                    try {
                        options.resumeReading.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                last[0] = last[1];
                last[1] = last[2];
                last[2] = last[3];
                last[3] = last[4];
                last[4] = c;
                if (last[0] == '\r' && last[1] == '\n' && last[2] == '.' && last[3] == '\r' && last[4] == '\n') {
                    if (options.digestOnly) {
                        // The digest covers the terminator too: the test computes it the same way.
                        digests.add((n - 3) + ":" + java.util.HexFormat.of().formatHex(sha.digest()));
                        return new byte[0];
                    }
                    byte[] all = b.toByteArray();
                    return java.util.Arrays.copyOf(all, all.length - 3);
                }
                if (n == 3 && last[2] == '.' && last[3] == '\r' && last[4] == '\n') {
                    return new byte[0];
                }
            }
        }

        /** Block reads for big messages; assumes nothing is pipelined after the terminator. */
        byte[] readDataFast(java.security.MessageDigest sha) throws IOException {
            byte[] buf = new byte[65536];
            byte[] tail = {'\r', '\n', 0, 0, 0};
            long n = 0;
            boolean pausedOnce = false;
            while (true) {
                int r = in.read(buf);
                if (r < 0) {
                    return null;
                }
                sha.update(buf, 0, r);
                n += r;
                for (int i = Math.max(0, r - 5); i < r; i++) {
                    System.arraycopy(tail, 1, tail, 0, 4);
                    tail[4] = buf[i];
                }
                if (tail[0] == '\r' && tail[1] == '\n' && tail[2] == '.' && tail[3] == '\r' && tail[4] == '\n') {
                    digests.add((n - 3) + ":" + java.util.HexFormat.of().formatHex(sha.digest()));
                    return new byte[0];
                }
                if (!pausedOnce && options.pauseAfterDataBytes >= 0 && n >= options.pauseAfterDataBytes) {
                    pausedOnce = true;
                    options.paused.countDown();
                    try {
                        options.resumeReading.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }

        String readLine() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int prev = -1;
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return null;
                }
                if (c == '\n' && prev == '\r') {
                    byte[] all = b.toByteArray();
                    return new String(all, 0, all.length - 1, StandardCharsets.ISO_8859_1);
                }
                b.write(c);
                prev = c;
            }
        }

        void write(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        synchronized (open) {
            for (Socket s : open) {
                s.close();
            }
        }
        threads.shutdownNow();
    }
}
