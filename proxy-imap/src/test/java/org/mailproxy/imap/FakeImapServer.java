package org.mailproxy.imap;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
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
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A scripted IMAP provider on loopback, one thread per connection, for session tests. It records every line and
 * literal it receives, so tests can check which tags and credentials reached it.
 */
public final class FakeImapServer implements AutoCloseable {

    public enum Tls { IMPLICIT, STARTTLS }

    /** What the fake provider does; tests change fields before connecting. */
    public static final class Script {
        public Tls tls = Tls.IMPLICIT;
        public java.nio.file.Path keyStore = TestCertificates.TRUSTED_P12;
        public boolean offerStartTls = true;
        public boolean preauthGreeting;
        public boolean injectAfterStartTls;
        public boolean refuseStartTls;
        public String capabilities = "IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN IDLE UIDPLUS MOVE COMPRESS=DEFLATE BINARY ID ENABLE";
        public String user = "alice";
        public String password = "s3cret";
        public byte[] body = "Subject: hi\r\n\r\nhello\r\n".getBytes(StandardCharsets.US_ASCII);
        /** When set: the untagged responses (CRLF-terminated, literals included) to a FETCH line, given that line. */
        public java.util.function.Function<String, String> fetchAnswer;
    }

    public final Script script = new Script();
    /** Every command line received (after TLS), literal contents as {@code <literal n>} markers. */
    public final List<String> received = new CopyOnWriteArrayList<>();
    /** Raw octets of every literal received. */
    public final List<byte[]> literals = new CopyOnWriteArrayList<>();
    /** Lines received before TLS was up. */
    public final List<String> receivedBeforeTls = new CopyOnWriteArrayList<>();
    public final List<byte[]> appended = Collections.synchronizedList(new ArrayList<>());

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    public FakeImapServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "fake-imap-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        return (script.tls == Tls.IMPLICIT ? "imaps" : "imap+starttls") + "://localhost:" + port();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "fake-imap-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket plain) {
        try {
            Socket s = plain;
            SSLContext ctx = TestCertificates.server(script.keyStore);
            boolean tlsUp = false;
            if (script.tls == Tls.IMPLICIT) {
                SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "localhost", plain.getPort(), true);
                ssl.setUseClientMode(false);
                ssl.startHandshake();
                s = ssl;
                tlsUp = true;
            }
            Conn c = new Conn(s);
            if (script.preauthGreeting) {
                c.send("* PREAUTH welcome, no login needed\r\n");
            } else {
                c.send("* OK fake provider ready\r\n");
            }
            boolean selected = false;
            while (true) {
                Cmd cmd = c.readCommand(tlsUp);
                if (cmd == null) {
                    return;
                }
                String tag = cmd.tag;
                switch (cmd.verb) {
                    case "CAPABILITY" -> {
                        String caps = script.capabilities;
                        if (!tlsUp) {
                            caps = "IMAP4rev1" + (script.offerStartTls ? " STARTTLS" : "") + " LOGINDISABLED";
                        }
                        c.send("* CAPABILITY " + caps + "\r\n" + tag + " OK done\r\n");
                    }
                    case "STARTTLS" -> {
                        if (script.refuseStartTls || tlsUp) {
                            c.send(tag + " NO not now\r\n");
                            continue;
                        }
                        c.send(tag + " OK begin TLS" + (script.injectAfterStartTls ? "\r\n* OK injected" : "") + "\r\n");
                        SSLSocket ssl = (SSLSocket) ctx.getSocketFactory().createSocket(s, "localhost", s.getPort(), true);
                        ssl.setUseClientMode(false);
                        ssl.startHandshake();
                        s = ssl;
                        c = new Conn(s);
                        tlsUp = true;
                    }
                    case "LOGIN" -> {
                        if (cmd.args.size() == 2 && cmd.arg(0).equals(script.user) && cmd.arg(1).equals(script.password)) {
                            c.send(tag + " OK [CAPABILITY " + script.capabilities + " X-AFTER-LOGIN] Logged in\r\n");
                        } else {
                            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
                        }
                    }
                    case "AUTHENTICATE" -> {
                        String ir = cmd.args.size() > 1 ? cmd.arg(1) : null;
                        if (cmd.arg(0).equalsIgnoreCase("XOAUTH2")) {
                            String decoded = new String(Base64.getDecoder().decode(ir), StandardCharsets.UTF_8);
                            if (decoded.equals("user=" + script.user + "\u0001auth=Bearer good-token\u0001\u0001")) {
                                c.send(tag + " OK Logged in\r\n");
                            } else {
                                // Google's behaviour: an error challenge the client must answer with an empty line.
                                c.send("+ eyJzdGF0dXMiOiI0MDEifQ==\r\n");
                                String answer = c.readLine(tlsUp);
                                c.send(tag + (answer != null && answer.isEmpty() ? " NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"
                                        : " BAD expected an empty response\r\n"));
                            }
                            continue;
                        }
                        if (ir == null) {
                            c.send("+ \r\n");
                            ir = c.readLine(tlsUp);
                        }
                        String[] parts = new String(Base64.getDecoder().decode(ir), StandardCharsets.UTF_8).split("\0", -1);
                        if (parts.length == 3 && parts[1].equals(script.user) && parts[2].equals(script.password)) {
                            c.send(tag + " OK Logged in\r\n");
                        } else {
                            c.send(tag + " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n");
                        }
                    }
                    case "SELECT", "EXAMINE" -> {
                        selected = true;
                        c.send("* FLAGS (\\Seen)\r\n* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n" + tag + " OK [READ-WRITE] selected\r\n");
                    }
                    case "FETCH", "UID" -> {
                        if (script.fetchAnswer != null) {
                            StringBuilder line = new StringBuilder(cmd.verb);
                            for (int i = 0; i < cmd.args.size(); i++) {
                                line.append(' ').append(cmd.arg(i));
                            }
                            c.send(script.fetchAnswer.apply(line.toString()) + tag + " OK fetched\r\n");
                            break;
                        }
                        c.send("* 1 FETCH (UID 1 RFC822.SIZE " + script.body.length + " BODY[] {" + script.body.length + "}\r\n");
                        c.out.write(script.body);
                        c.send(")\r\n" + tag + " OK fetched\r\n");
                    }
                    case "APPEND" -> {
                        appended.add(cmd.literalsOfCommand.isEmpty() ? new byte[0] : cmd.literalsOfCommand.get(cmd.literalsOfCommand.size() - 1));
                        c.send(tag + " OK [APPENDUID 7 " + appended.size() + "] appended\r\n");
                    }
                    case "IDLE" -> {
                        c.send("+ idling\r\n");
                        c.send("* 2 EXISTS\r\n");
                        String done = c.readLine(tlsUp);
                        c.send("DONE".equalsIgnoreCase(done) ? tag + " OK idle done\r\n" : tag + " BAD expected DONE\r\n");
                    }
                    case "NOOP" -> c.send(tag + " OK noop\r\n");
                    case "X-HANG" -> { } // a provider that vanished without closing: no answer, ever
                    case "X-DROP" -> {
                        s.close();
                        return;
                    }
                    case "LOGOUT" -> {
                        c.send("* BYE bye\r\n" + tag + " OK logged out\r\n");
                        s.close();
                        return;
                    }
                    default -> c.send(tag + " BAD unknown command " + cmd.verb + (selected ? "" : "") + "\r\n");
                }
            }
        } catch (IOException | RuntimeException e) {
            // connection ended
        } finally {
            try {
                plain.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private static final class Cmd {
        String tag;
        String verb;
        final List<byte[]> args = new ArrayList<>();
        final List<byte[]> literalsOfCommand = new ArrayList<>();

        String arg(int i) {
            return new String(args.get(i), StandardCharsets.UTF_8);
        }
    }

    private final class Conn {
        final InputStream in;
        final OutputStream out;

        Conn(Socket s) throws IOException {
            this.in = s.getInputStream();
            this.out = s.getOutputStream();
        }

        void send(String text) throws IOException {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        String readLine(boolean tlsUp) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int prev = -1;
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return null;
                }
                if (c == '\n' && prev == '\r') {
                    byte[] all = b.toByteArray();
                    String line = new String(all, 0, all.length - 1, StandardCharsets.UTF_8);
                    (tlsUp ? received : receivedBeforeTls).add(line);
                    return line;
                }
                b.write(c);
                prev = c;
            }
        }

        Cmd readCommand(boolean tlsUp) throws IOException {
            Cmd cmd = new Cmd();
            StringBuilder text = new StringBuilder();
            List<Object> segments = new ArrayList<>();
            while (true) {
                String line = readLine(tlsUp);
                if (line == null) {
                    return null;
                }
                int open = line.lastIndexOf('{');
                if (line.endsWith("}") && open >= 0) {
                    String n = line.substring(open + 1, line.length() - 1);
                    boolean nonSync = n.endsWith("+");
                    if (nonSync && !script.capabilities.contains("LITERAL+")) {
                        send("* BAD non-synchronizing literal without LITERAL+\r\n");
                    }
                    int size = Integer.parseInt(nonSync ? n.substring(0, n.length() - 1) : n);
                    segments.add(line.substring(0, open));
                    if (!nonSync) {
                        send("+ go ahead\r\n");
                    }
                    byte[] lit = in.readNBytes(size);
                    literals.add(lit);
                    cmd.literalsOfCommand.add(lit);
                    segments.add(lit);
                    text.append(line, 0, open).append("<literal ").append(size).append('>');
                } else {
                    segments.add(line);
                    break;
                }
            }
            // Tokenize: first segment has tag and verb.
            List<byte[]> tokens = new ArrayList<>();
            for (Object seg : segments) {
                if (seg instanceof byte[] lit) {
                    tokens.add(lit);
                    continue;
                }
                String s = (String) seg;
                int i = 0;
                while (i < s.length()) {
                    char ch = s.charAt(i);
                    if (ch == ' ') {
                        i++;
                    } else if (ch == '"') {
                        StringBuilder q = new StringBuilder();
                        i++;
                        while (i < s.length() && s.charAt(i) != '"') {
                            if (s.charAt(i) == '\\') {
                                i++;
                            }
                            q.append(s.charAt(i++));
                        }
                        i++;
                        tokens.add(q.toString().getBytes(StandardCharsets.UTF_8));
                    } else {
                        int j = s.indexOf(' ', i);
                        j = j < 0 ? s.length() : j;
                        tokens.add(s.substring(i, j).getBytes(StandardCharsets.UTF_8));
                        i = j;
                    }
                }
            }
            cmd.tag = new String(tokens.get(0), StandardCharsets.UTF_8);
            cmd.verb = tokens.size() > 1 ? new String(tokens.get(1), StandardCharsets.UTF_8).toUpperCase(Locale.ROOT) : "";
            cmd.args.addAll(tokens.subList(Math.min(2, tokens.size()), tokens.size()));
            return cmd;
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
