package org.mailproxy.imap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A raw-socket IMAP client: sends exactly what the test says and reads responses with their literals. */
public final class ImapTestClient implements AutoCloseable {

    private Socket socket;
    private InputStream in;
    private OutputStream out;
    /** Literal contents of the last responses read, in order. */
    public final List<byte[]> literals = new ArrayList<>();

    public ImapTestClient(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** A client whose connection is TLS from the first byte (local implicit TLS). */
    public ImapTestClient(int port, javax.net.ssl.SSLContext tls) throws IOException {
        this(port);
        upgrade(tls);
    }

    /** Starts TLS on the connection (after a STARTTLS OK), verifying the proxy's certificate. */
    public void upgrade(javax.net.ssl.SSLContext tls) throws IOException {
        javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) tls.getSocketFactory()
                .createSocket(socket, "localhost", socket.getPort(), true);
        ssl.startHandshake();
        socket = ssl;
        in = ssl.getInputStream();
        out = ssl.getOutputStream();
    }

    public void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** One response (its literals replaced by {@code <literal n>}, contents kept in {@link #literals}); null at EOF. */
    public String readResponse() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            String line = readLine();
            if (line == null) {
                return sb.length() == 0 ? null : sb.toString();
            }
            int open = line.lastIndexOf('{');
            if (line.endsWith("}") && open >= 0 && !line.startsWith("+")) {
                int n = Integer.parseInt(line.substring(open + 1, line.length() - 1));
                literals.add(in.readNBytes(n));
                sb.append(line, 0, open).append("<literal ").append(n).append('>');
            } else {
                sb.append(line);
                return sb.toString();
            }
        }
    }

    /** Sends {@code tag command} and reads until the tagged response; returns all responses. */
    public List<String> command(String tag, String command) throws IOException {
        send(tag + " " + command + "\r\n");
        return readUntilTagged(tag);
    }

    public List<String> readUntilTagged(String tag) throws IOException {
        List<String> responses = new ArrayList<>();
        while (true) {
            String r = readResponse();
            if (r == null) {
                responses.add("<EOF>");
                return responses;
            }
            responses.add(r);
            if (r.startsWith(tag + " ")) {
                return responses;
            }
        }
    }

    public String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
            }
            if (c == '\n' && prev == '\r') {
                byte[] all = b.toByteArray();
                return new String(all, 0, all.length - 1, StandardCharsets.UTF_8);
            }
            b.write(c);
            prev = c;
        }
    }

    /** True once the proxy has closed the connection (reads EOF). */
    public boolean closedByPeer() throws IOException {
        try {
            while (true) {
                int c = in.read();
                if (c < 0) {
                    return true;
                }
            }
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    public InputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
