package org.mailproxy.e2e;

import org.mailproxy.testing.MailUser;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** An SMTP client on a raw socket that sends exactly what a test gives it and reads whole (multi-line) replies. */
final class RawSmtp implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    RawSmtp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
        out = socket.getOutputStream();
    }

    void send(byte[] octets) throws IOException {
        out.write(octets);
        out.flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The last line of the next reply (the one with a space after the code), or null when the proxy closed. */
    String reply() throws IOException {
        while (true) {
            String line;
            try {
                line = in.readLine();
            } catch (SocketException e) {
                return null;
            }
            if (line == null) {
                return null;
            }
            if (line.length() < 4 || line.charAt(3) != '-') {
                return line;
            }
        }
    }

    String command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    /** Every reply until the proxy closes the connection. Fails if it stays open. */
    List<String> repliesUntilClosed() throws IOException {
        List<String> replies = new ArrayList<>();
        try {
            for (String r = reply(); r != null; r = reply()) {
                replies.add(r);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the proxy kept the connection open; replies " + replies, e);
        }
        return replies;
    }

    /** A session past the greeting, EHLO and AUTH PLAIN; fails when any of them is not accepted. */
    static RawSmtp authenticated(int port, MailUser user) throws IOException {
        RawSmtp c = new RawSmtp(port);
        expect(c.reply(), "220 ");
        expect(c.command("EHLO client.example.test"), "250 ");
        expect(c.command("AUTH PLAIN " + plain(user.login(), user.password())), "235 ");
        return c;
    }

    private static void expect(String reply, String prefix) {
        if (reply == null || !reply.startsWith(prefix)) {
            throw new AssertionError("expected " + prefix.trim() + ", got " + reply);
        }
    }

    /**
     * One transaction: MAIL, one RCPT per recipient, DATA, the message (which ends with CRLF; dot-stuffed here,
     * RFC 5321 4.5.2) and the final dot. Returns every reply in order; stops after a refused MAIL or DATA, so the last reply says how it ended.
     */
    List<String> transaction(String from, List<String> to, byte[] message) throws IOException {
        List<String> replies = new ArrayList<>();
        String mail = command("MAIL FROM:<" + from + ">");
        replies.add(mail);
        if (mail == null || !mail.startsWith("250")) {
            return replies;
        }
        for (String rcpt : to) {
            replies.add(command("RCPT TO:<" + rcpt + ">"));
        }
        String data = command("DATA");
        replies.add(data);
        if (data == null || !data.startsWith("354")) {
            return replies;
        }
        send(stuffed(message));
        replies.add(command("."));
        return replies;
    }

    /** A message with a dot added before every line that starts with one (RFC 5321 4.5.2). */
    static byte[] stuffed(byte[] message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(message.length + 16);
        boolean lineStart = true;
        for (byte b : message) {
            if (lineStart && b == '.') {
                out.write('.');
            }
            out.write(b);
            lineStart = b == '\n';
        }
        return out.toByteArray();
    }

    static String plain(String login, String password) {
        return Base64.getEncoder().encodeToString(("\0" + login + "\0" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
