package org.mailproxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/** A minimal CRLF line client over a JDK socket, for talking IMAP and SMTP to the stack in tests. */
final class LineClient implements AutoCloseable {

    private static final int TIMEOUT_MS = 10_000;

    private Socket socket;
    private InputStream in;
    private OutputStream out;

    private LineClient(Socket socket) throws IOException {
        use(socket);
    }

    static LineClient plain(String host, int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
        return new LineClient(socket);
    }

    static LineClient tls(SSLSocketFactory factory, String host, int port) throws IOException {
        Socket raw = new Socket();
        raw.connect(new InetSocketAddress(host, port), TIMEOUT_MS);
        return new LineClient(handshake(factory, raw, host, port));
    }

    /** Upgrades this connection to TLS in place (after a STARTTLS command was accepted). */
    void startTls(SSLSocketFactory factory, String host, int port) throws IOException {
        use(handshake(factory, socket, host, port));
    }

    private static SSLSocket handshake(SSLSocketFactory factory, Socket raw, String host, int port)
            throws IOException {
        SSLSocket ssl = (SSLSocket) factory.createSocket(raw, host, port, true);
        SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        ssl.setSSLParameters(params);
        ssl.startHandshake();
        return ssl;
    }

    private void use(Socket s) throws IOException {
        s.setSoTimeout(TIMEOUT_MS);
        this.socket = s;
        this.in = s.getInputStream();
        this.out = s.getOutputStream();
    }

    boolean isTls() {
        return socket instanceof SSLSocket;
    }

    void send(String line) throws IOException {
        out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed after: " + line.toString(StandardCharsets.UTF_8));
            }
            if (prev == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            prev = b;
        }
    }

    /** IMAP: reads until the tagged response for {@code tag}; returns all lines, the tagged one last. */
    List<String> readTagged(String tag) throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            lines.add(line);
            if (line.startsWith(tag + " ")) {
                return lines;
            }
        }
    }

    /** IMAP: sends a tagged command and returns the tagged response line. */
    String command(String tag, String command) throws IOException {
        send(tag + " " + command);
        List<String> lines = readTagged(tag);
        return lines.get(lines.size() - 1);
    }

    /** SMTP: reads one (possibly multi-line) reply; returns its lines. */
    List<String> readReply() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return lines;
            }
        }
    }

    /** SMTP: sends a command and returns the reply's code. */
    int smtp(String command) throws IOException {
        send(command);
        return code(readReply());
    }

    static int code(List<String> reply) {
        return Integer.parseInt(reply.get(reply.size() - 1).substring(0, 3));
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
