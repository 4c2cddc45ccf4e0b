package org.mailproxy.app;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command line's side of the {@link ControlSocket} protocol: one request, the answer lines (the last starts
 * with {@code OK} or {@code ERR}).
 */
final class ControlClient {

    /** The daemon does not run (no socket, or nobody answers on it). The message says which, for a person. */
    static final class NotRunning extends Exception {
        private static final long serialVersionUID = 1L;

        NotRunning(String message) {
            super(message);
        }
    }

    private static final int MAX_ANSWER = 1 << 20;

    private final Path socket;

    ControlClient(Path dataDir) {
        this.socket = ControlSocket.path(dataDir);
    }

    /** The answer to {@code STATUS}. */
    List<String> status() throws IOException, NotRunning {
        return request("STATUS\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** Sends {@code UNLOCK email passphrase}; the request buffer (which holds the passphrase) is wiped. */
    List<String> unlock(String email, char[] passphrase) throws IOException, NotRunning {
        byte[] head = ("UNLOCK " + email + " ").getBytes(StandardCharsets.UTF_8);
        // sized for the worst case up front, so the encoder never leaves a copy behind in a buffer it outgrew
        byte[] line = new byte[head.length + passphrase.length * 3 + 1];
        try {
            ByteBuffer out = ByteBuffer.wrap(line);
            out.put(head);
            java.nio.charset.CoderResult r = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .encode(java.nio.CharBuffer.wrap(passphrase), out, true);
            if (r.isError()) {
                throw new IOException("the passphrase is not valid Unicode");
            }
            out.put((byte) '\n');
            return request(Arrays.copyOf(line, out.position()), true);
        } finally {
            Arrays.fill(line, (byte) 0);
        }
    }

    List<String> request(byte[] line) throws IOException, NotRunning {
        return request(line, false);
    }

    /** Sends {@code line} (wiped afterwards when {@code secret}) and reads the answer. */
    private List<String> request(byte[] line, boolean secret) throws IOException, NotRunning {
        try {
            return exchange(line);
        } finally {
            if (secret) {
                Arrays.fill(line, (byte) 0);
            }
        }
    }

    private List<String> exchange(byte[] line) throws IOException, NotRunning {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            throw new NotRunning("mailproxy is not running (no control socket " + socket + "); start it with "
                    + "mailproxy run");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (ConnectException e) {
                throw new NotRunning("mailproxy is not running (" + socket + " is left from a daemon that stopped, "
                        + "and nothing answers on it); start it with mailproxy run");
            }
            ByteBuffer out = ByteBuffer.wrap(line);
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteBuffer in = ByteBuffer.allocate(8192);
            java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
            while (ch.read(in) >= 0) {
                in.flip();
                if (answer.size() + in.remaining() > MAX_ANSWER) {
                    throw new IOException("the daemon's answer is too long");
                }
                answer.write(in.array(), 0, in.remaining());
                in.clear();
            }
            List<String> lines = new ArrayList<>(List.of(answer.toString(StandardCharsets.UTF_8).split("\n")));
            lines.removeIf(String::isEmpty);
            if (lines.isEmpty()) {
                throw new IOException("the daemon closed the control connection without an answer");
            }
            return lines;
        }
    }
}
