package org.mailproxy.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A loopback server that speaks a few lines of plain-text protocol and never TLS: a provider that does not offer
 * STARTTLS, or one stripped by an attacker in the path (SECURITY.md 9).
 */
final class PlainTextServer implements AutoCloseable {

    /** Every line a client sent. */
    final java.util.List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ServerSocket socket;
    private final Thread thread;

    /**
     * @param greeting sent on connect
     * @param reply    the answer to each line the client sends; null closes the connection
     */
    PlainTextServer(String greeting, Function<String, String> reply) throws IOException {
        socket = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"));
        thread = new Thread(() -> {
            while (!socket.isClosed()) {
                try (Socket s = socket.accept()) {
                    s.setSoTimeout(10_000);
                    OutputStream out = s.getOutputStream();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                    out.write(greeting.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    for (String line; (line = in.readLine()) != null; ) {
                        received.add(line);
                        String answer = reply.apply(line);
                        if (answer == null) {
                            break;
                        }
                        out.write(answer.getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    }
                } catch (IOException e) {
                    // next connection, or closed
                }
            }
        }, "plain-text-server");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    /** An IMAP server without STARTTLS: every tagged command gets the capabilities and OK; LOGOUT says BYE. */
    static PlainTextServer imapWithoutStartTls() throws IOException {
        return new PlainTextServer("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plain only\r\n", line -> {
            String tag = line.split(" ", 2)[0];
            if (line.toUpperCase().contains("LOGOUT")) {
                return "* BYE bye\r\n" + tag + " OK done\r\n";
            }
            return "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + " OK done\r\n";
        });
    }

    /** An SMTP server without STARTTLS in its EHLO reply; STARTTLS itself is refused. */
    static PlainTextServer smtpWithoutStartTls() throws IOException {
        return new PlainTextServer("220 plain.test ESMTP\r\n", line -> {
            String verb = line.split(" ", 2)[0].toUpperCase();
            return switch (verb) {
                case "EHLO" -> "250-plain.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n";
                case "HELO" -> "250 plain.test\r\n";
                case "QUIT" -> "221 bye\r\n";
                case "STARTTLS" -> "502 5.5.1 not here\r\n";
                default -> "503 5.5.1 no\r\n";
            };
        });
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
