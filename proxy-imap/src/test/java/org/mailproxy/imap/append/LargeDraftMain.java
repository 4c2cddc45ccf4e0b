package org.mailproxy.imap.append;

import org.mailproxy.core.mime.DecryptedMessage;

import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Run in a JVM with a small heap by {@link DraftEncryptorTest}: 30 MB of generated body are encrypted into the
 * spool and decrypted back, compared by SHA-256. A buffered copy of the message would not fit in that heap.
 */
public final class LargeDraftMain {
    static final long BODY = 30L << 20;
    static final byte[] CANARY = "canary-large-5d1e".getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        try (DraftKeys keys = new DraftKeys(dir)) {
            byte[] header = ("From: alice@example.org\r\nSubject: large\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    + "Content-Transfer-Encoding: 8bit\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            InputStream message = new SequenceInputStream(new java.io.ByteArrayInputStream(header),
                    new Generated(BODY, sent));
            try (DraftEncryptor.Result r = keys.encryptor(1 << 16, 1L << 31, dir).encrypt(message,
                    keys.alice.fingerprint(), keys.aliceKey, "[...]")) {
                boolean noCanary = !contains(r, CANARY);
                MessageDigest back = MessageDigest.getInstance("SHA-256");
                try (DecryptedMessage d = keys.decrypt(r.message().openStream(), dir);
                     InputStream in = d.message().orElseThrow().openStream()) {
                    skipHeader(in);
                    byte[] buf = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        back.update(buf, 0, n);
                    }
                }
                System.out.println("size=" + r.size() + " onDisk=" + r.message().onDisk()
                        + " sameBody=" + Arrays.equals(sent.digest(), back.digest()) + " noCanary=" + noCanary);
            }
        }
    }

    private static boolean contains(DraftEncryptor.Result r, byte[] needle) throws IOException {
        try (InputStream in = r.message().openStream()) {
            byte[] buf = new byte[1 << 16];
            byte[] carry = new byte[0];
            int n;
            while ((n = in.read(buf)) > 0) {
                byte[] window = new byte[carry.length + n];
                System.arraycopy(carry, 0, window, 0, carry.length);
                System.arraycopy(buf, 0, window, carry.length, n);
                String s = new String(window, StandardCharsets.ISO_8859_1);
                if (s.contains(new String(needle, StandardCharsets.ISO_8859_1))) {
                    return true;
                }
                carry = Arrays.copyOfRange(window, Math.max(0, window.length - needle.length), window.length);
            }
            return false;
        }
    }

    private static void skipHeader(InputStream in) throws IOException {
        int state = 0;
        int b;
        while ((b = in.read()) >= 0) {
            state = switch (state) {
                case 0 -> b == '\r' ? 1 : 0;
                case 1 -> b == '\n' ? 2 : b == '\r' ? 1 : 0;
                case 2 -> b == '\r' ? 3 : 0;
                case 3 -> b == '\n' ? 4 : b == '\r' ? 1 : 0;
                default -> state;
            };
            if (state == 4) {
                return;
            }
        }
    }

    /** Lines of text with the canary in each, generated as read, hashed as they go. */
    private static final class Generated extends InputStream {
        private final long total;
        private final MessageDigest digest;
        private final byte[] line;
        private long pos;

        Generated(long total, MessageDigest digest) {
            this.total = total;
            this.digest = digest;
            this.line = ("Zeile mit Umlauten äöü and " + new String(CANARY, StandardCharsets.US_ASCII)
                    + " 0123456789\r\n").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= total) {
                return -1;
            }
            int n = (int) Math.min(len, total - pos);
            for (int i = 0; i < n; i++) {
                b[off + i] = line[(int) ((pos + i) % line.length)];
            }
            digest.update(b, off, n);
            pos += n;
            return n;
        }
    }
}
