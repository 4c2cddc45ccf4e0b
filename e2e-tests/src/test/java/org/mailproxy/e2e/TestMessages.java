package org.mailproxy.e2e;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Random;

/** RFC 5322 messages with CRLF line ends, each carrying a marker so a test finds its own message in a mailbox. */
final class TestMessages {

    private TestMessages() {
    }

    static byte[] plain(String from, String to, String marker, String body) {
        return ascii("From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: plain " + marker + "\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n"
                + body);
    }

    /** An 8-bit UTF-8 body (RFC 6152) with a line that starts with a dot. */
    static byte[] eightBit(String from, String to, String marker) {
        String head = "From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: 8bit " + marker + "\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:01:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n";
        String body = "Grüße aus Köln, ½ € — ünïcödé ✓\r\n"
                + ".a line that starts with a dot\r\n"
                + "日本語のテキスト\r\n";
        return (head + body).getBytes(StandardCharsets.UTF_8);
    }

    /** Header lines far beyond 78 octets: one folded References field and one unfolded 990-octet line. */
    static byte[] longHeaders(String from, String to, String marker) {
        StringBuilder refs = new StringBuilder("References:");
        for (int i = 0; i < 60; i++) {
            refs.append(" <ref-").append(i).append('-').append(marker).append("@example.test>\r\n");
        }
        String longLine = "X-Long: " + "x".repeat(990 - "X-Long: ".length());
        return ascii("From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: long headers " + marker + " " + "word ".repeat(40).trim() + "\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:02:00 +0000\r\n"
                + refs.toString().stripTrailing() + "\r\n"
                + longLine + "\r\n"
                + "\r\n"
                + "short body\r\n");
    }

    /** multipart/mixed with a binary attachment of {@code size} random octets, base64 in 76-column lines. */
    static byte[] withAttachment(String from, String to, String marker, int size, long seed) {
        byte[] binary = new byte[size];
        new Random(seed).nextBytes(binary);
        String b64 = Base64.getMimeEncoder(76, new byte[]{'\r', '\n'}).encodeToString(binary);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size * 4 / 3 + 4096);
        String boundary = "b-" + marker;
        out.writeBytes(ascii("From: <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: attachment " + size + " " + marker + "\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:03:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n"
                + "\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n"
                + "\r\n"
                + "See the attachment.\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                + "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "\r\n"));
        out.writeBytes(ascii(b64));
        out.writeBytes(ascii("\r\n--" + boundary + "--\r\n"));
        return out.toByteArray();
    }

    /**
     * A UTF-8 message whose Subject and body carry words that must never be readable in an encrypted copy; the
     * marker is in the Message-ID only, which stays outside the encryption.
     */
    static byte[] secret(String from, String to, String marker, String subjectWord, String bodyWord) {
        String head = "From: Alice <" + from + ">\r\n"
                + "To: <" + to + ">\r\n"
                + "Subject: quarterly numbers " + subjectWord + "\r\n"
                + "Message-ID: <" + marker + "@example.test>\r\n"
                + "Date: Mon, 02 Mar 2026 10:04:00 +0000\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n";
        String body = "Grüße, the numbers: " + bodyWord + "\r\n"
                + ".a line that starts with a dot\r\n"
                + "Ünïcödé ✓ 日本語\r\n";
        return (head + body).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
