package org.mailproxy.e2e;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A deliberately dumb IMAP client on a raw socket: it sends exactly the octets a test gives it (garbage included)
 * and reads responses with their literals counted (RFC 9051 4.3), so a test sees the proxy's bytes unmodified.
 */
final class RawImap implements AutoCloseable {

    private static final Pattern LITERAL_AT_END = Pattern.compile("\\{(\\d+)}$");
    private static final int READ_TIMEOUT_MS = 20_000;

    /** One response: its text with literals left as {@code {n}}, and the literals' octets in order. */
    record Response(String text, List<byte[]> literals) {
        boolean isTagged(String tag) {
            return text.startsWith(tag + " ");
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawImap(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** Over a socket the caller opened, e.g. a TLS socket straight to Dovecot to see what the provider sends. */
    RawImap(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(READ_TIMEOUT_MS);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    void send(byte[] octets) throws IOException {
        out.write(octets);
        out.flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** One CRLF-terminated line without the CRLF, or null when the proxy closed the connection. */
    String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (SocketException e) {
                return null; // reset by the proxy: closed as well
            }
            if (b < 0) {
                return line.size() == 0 ? null : line.toString(StandardCharsets.UTF_8);
            }
            if (prev == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
            }
            line.write(b);
            prev = b;
        }
    }

    /** The next response with its literals, or null at end of stream. */
    Response readResponse() throws IOException {
        StringBuilder text = new StringBuilder();
        List<byte[]> literals = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                return text.length() == 0 ? null : new Response(text.toString(), literals);
            }
            text.append(line);
            Matcher m = LITERAL_AT_END.matcher(line);
            if (!m.find()) {
                return new Response(text.toString(), literals);
            }
            byte[] literal = in.readNBytes(Integer.parseInt(m.group(1)));
            literals.add(literal);
        }
    }

    /** Sends {@code tag SP command CRLF} and returns every response up to and including the tagged one. */
    List<Response> command(String tag, String command) throws IOException {
        send(tag + " " + command + "\r\n");
        return readUntilTagged(tag);
    }

    List<Response> readUntilTagged(String tag) throws IOException {
        List<Response> responses = new ArrayList<>();
        while (true) {
            Response r = readResponse();
            if (r == null) {
                throw new IOException("connection closed before the tagged response to " + tag + "; got " + texts(responses));
            }
            responses.add(r);
            if (r.isTagged(tag)) {
                return responses;
            }
        }
    }

    /** Reads until the proxy closes the connection; the lines read on the way. Fails if it stays open. */
    List<String> readUntilClosed() throws IOException {
        List<String> lines = new ArrayList<>();
        try {
            for (String line = readLine(); line != null; line = readLine()) {
                lines.add(line);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the proxy kept the connection open; it sent " + lines, e);
        }
        return lines;
    }

    static List<String> texts(List<Response> responses) {
        return responses.stream().map(Response::text).toList();
    }

    static String last(List<Response> responses) {
        return responses.get(responses.size() - 1).text();
    }

    static String quoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
