package org.mailproxy.imap.view;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.TestCa;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proof that {@link MessageStructure} answers as the provider's server does: varied messages are stored in the
 * real Dovecot, which is asked for BODYSTRUCTURE, BODY and every section; our answers computed from the same octets
 * must be identical (BODYSTRUCTURE and BODY as wire text, sections octet for octet; a section Dovecot sends as an
 * empty string or NIL must be one we do not have).
 */
@RequiresMailStack
class MessageStructureMailStackTest {

    private static Dovecot imap;
    private static final Map<String, Long> NUMBERS = new LinkedHashMap<>();
    private static final Map<String, byte[]> SAMPLES = new LinkedHashMap<>();

    @BeforeAll
    static void deliver(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        Map<String, String> markers = new LinkedHashMap<>();
        Map<String, byte[]> samples = new LinkedHashMap<>(StructureSamples.all());
        samples.put("large", StructureSamples.large(3 * 1024 * 1024));
        for (Map.Entry<String, byte[]> e : samples.entrySet()) {
            String marker = "structure-" + e.getKey() + "-" + UUID.randomUUID();
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            m.writeBytes(("Message-ID: <" + marker + "@example.test>\r\n").getBytes(StandardCharsets.US_ASCII));
            m.writeBytes(e.getValue());
            stack.deliver(alice, m.toByteArray());
            markers.put(e.getKey(), marker);
        }
        imap = new Dovecot(stack);
        imap.command("LOGIN \"" + alice.login() + "\" \"" + alice.password() + "\"");
        imap.command("EXAMINE INBOX");
        for (Map.Entry<String, String> e : markers.entrySet()) {
            String search = new String(imap.command("SEARCH HEADER Message-ID " + e.getValue()).get(0),
                    StandardCharsets.ISO_8859_1).trim();
            assertThat(search).startsWith("* SEARCH ");
            long n = Long.parseLong(search.substring("* SEARCH ".length()).trim().split(" ")[0]);
            NUMBERS.put(e.getKey(), n);
            SAMPLES.put(e.getKey(), imap.section(n, ""));
        }
    }

    @AfterAll
    static void logout() throws IOException {
        if (imap != null) {
            imap.close();
        }
    }

    @Test
    void bodyStructureAndBodyAreDovecots() throws IOException {
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, Long> e : NUMBERS.entrySet()) {
            long n = e.getValue();
            byte[] octets = SAMPLES.get(e.getKey());
            MessageStructure ours = MessageStructure.parse(new ByteArrayInputStream(octets));
            ours = MessageStructure.fromBytes(ours.toBytes());
            assertThat(ours.size()).isEqualTo(octets.length);
            for (String item : List.of("BODYSTRUCTURE", "BODY")) {
                String theirs = new String(imap.command("FETCH " + n + " " + item).get(0), StandardCharsets.ISO_8859_1);
                String mine = new String(WireText.fetch(n, item,
                        item.equals("BODY") ? ours.body() : ours.bodyStructure()), StandardCharsets.ISO_8859_1);
                if (!theirs.equals(mine)) {
                    differences.add(e.getKey() + " " + item + "\n  dovecot: " + theirs.trim() + "\n  ours:    " + mine.trim());
                }
            }
        }
        assertThat(differences).isEmpty();
    }

    @Test
    void everySectionIsDovecots() throws IOException {
        List<String> differences = new ArrayList<>();
        int compared = 0;
        for (Map.Entry<String, Long> e : NUMBERS.entrySet()) {
            long n = e.getValue();
            byte[] octets = SAMPLES.get(e.getKey());
            MessageStructure ours = MessageStructure.parse(new ByteArrayInputStream(octets));
            List<String> specs = new ArrayList<>(List.of("HEADER", "TEXT", "HEADER.FIELDS (Subject)"));
            specs(ours.root(), "", specs);
            for (String spec : specs) {
                byte[] theirs = imap.section(n, spec);
                Optional<MessageStructure.Range> range = ours.section(spec);
                byte[] mine = range.map(r -> Arrays.copyOfRange(octets, (int) r.offset(), (int) (r.offset() + r.length())))
                        .orElse(null);
                if (mine != null && spec.contains("HEADER.FIELDS")) {
                    if (!new String(mine, StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                        // A header without its blank line: Dovecot ends the field subset with a CRLF, HeaderSections
                        // does not; that is HeaderSections' concern, the range itself is compared as HEADER.
                        continue;
                    }
                    mine = HeaderSections.fields(mine, java.util.Set.of("Subject"), false);
                }
                boolean same = mine == null ? theirs == null || theirs.length == 0 : Arrays.equals(mine, theirs);
                compared++;
                if (!same) {
                    differences.add(e.getKey() + " BODY[" + spec + "] " + range + "\n  dovecot: " + show(theirs)
                            + "\n  ours:    " + show(mine));
                }
            }
        }
        assertThat(compared).isGreaterThan(100);
        assertThat(differences).isEmpty();
    }

    /** Every part path of a message, each with .MIME, .HEADER and .TEXT, and one past the last part of each level. */
    private static void specs(MimePart message, String prefix, List<String> out) {
        List<MimePart> parts = message.is(MimePart.MULTIPART) ? message.children : List.of(message);
        for (int k = 1; k <= parts.size(); k++) {
            MimePart p = parts.get(k - 1);
            String path = prefix + k;
            for (String suffix : List.of("", ".MIME", ".HEADER", ".TEXT")) {
                out.add(path + suffix);
            }
            if (p.is(MimePart.RFC822)) {
                out.add(path + ".HEADER.FIELDS (Subject)");
                specs(p.children.get(0), path + ".", out);
            } else if (p.is(MimePart.MULTIPART) && p != message) {
                specs(p, path + ".", out);
            } else {
                out.add(path + ".1"); // a leaf's only part is itself
                out.add(path + ".1.MIME");
                out.add(path + ".1.1");
                out.add(path + ".2");
            }
        }
        out.add(prefix + (parts.size() + 1));
    }

    private static String show(byte[] b) {
        if (b == null) {
            return "(none)";
        }
        String s = new String(b, StandardCharsets.ISO_8859_1);
        return b.length + " octets: " + (s.length() > 300 ? s.substring(0, 300) + "..." : s).replace("\r\n", "\\r\\n");
    }

    /** A raw IMAPS client to the test Dovecot that keeps responses as octets, literals inline. */
    private static final class Dovecot implements AutoCloseable {
        private final SSLSocket socket;
        private final InputStream in;
        private final OutputStream out;
        private int tag;

        Dovecot(MailStack stack) throws IOException {
            socket = (SSLSocket) TestCa.socketFactory(stack.caCertFile()).createSocket(stack.host(), stack.imapsPort());
            socket.setSoTimeout(30_000);
            in = new java.io.BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            response(); // greeting
        }

        /** Untagged responses of a command; fails unless it ends OK. */
        List<byte[]> command(String command) throws IOException {
            String t = "s" + ++tag;
            out.write((t + " " + command + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            List<byte[]> untagged = new ArrayList<>();
            while (true) {
                byte[] r = response();
                String head = new String(r, 0, Math.min(r.length, 200), StandardCharsets.ISO_8859_1);
                if (head.startsWith(t + " ")) {
                    assertThat(head).as(command).startsWith(t + " OK");
                    return untagged;
                }
                untagged.add(r);
            }
        }

        /** BODY.PEEK[spec]: the octets, or null for NIL. */
        byte[] section(long n, String spec) throws IOException {
            List<byte[]> rs = command("FETCH " + n + " BODY.PEEK[" + spec + "]");
            assertThat(rs).hasSize(1);
            byte[] r = rs.get(0);
            String s = new String(r, StandardCharsets.ISO_8859_1);
            int close = s.indexOf("] ", s.indexOf("BODY["));
            int at = close + 2;
            if (s.startsWith("NIL", at)) {
                return null;
            }
            if (s.charAt(at) == '"') {
                StringBuilder b = new StringBuilder();
                for (int k = at + 1; s.charAt(k) != '"'; k++) {
                    if (s.charAt(k) == '\\') {
                        k++;
                    }
                    b.append(s.charAt(k));
                }
                return b.toString().getBytes(StandardCharsets.ISO_8859_1);
            }
            int brace = s.indexOf('}', at);
            int count = Integer.parseInt(s.substring(at + 1, brace));
            return Arrays.copyOfRange(r, brace + 3, brace + 3 + count);
        }

        /** One response with its literals inline. */
        private byte[] response() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            while (true) {
                int lineStart = b.size();
                int c;
                int prev = -1;
                while ((c = in.read()) >= 0) {
                    b.write(c);
                    if (c == '\n' && prev == '\r') {
                        break;
                    }
                    prev = c;
                }
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                byte[] all = b.toByteArray();
                String line = new String(all, lineStart, all.length - lineStart - 2, StandardCharsets.ISO_8859_1);
                int open = line.lastIndexOf('{');
                if (line.endsWith("}") && open >= 0) {
                    int count = Integer.parseInt(line.substring(open + 1, line.length() - 1));
                    b.writeBytes(in.readNBytes(count));
                } else {
                    return b.toByteArray();
                }
            }
        }

        @Override
        public void close() throws IOException {
            try {
                command("LOGOUT");
            } catch (IOException | AssertionError e) {
                // closing anyway
            }
            socket.close();
        }
    }
}
