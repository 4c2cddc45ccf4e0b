package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Messages anyone can mail to the user, built to stress the proxy's parser of upstream responses: a very long
 * Subject (ENVELOPE), deep MIME nesting (BODYSTRUCTURE). Fetching them must not cost the user the session.
 */
@RequiresMailStack
class HostileMailboxE2eTest {

    @TempDir
    Path dir;

    private static RawImap selected(RunningProxy proxy, MailUser user) throws IOException {
        RawImap c = new RawImap(proxy.imapPort());
        assertThat(c.readLine()).startsWith("* OK");
        assertThat(RawImap.last(c.command("a1", "LOGIN " + RawImap.quoted(user.login()) + " "
                + RawImap.quoted(user.password())))).startsWith("a1 OK");
        assertThat(RawImap.last(c.command("a2", "SELECT INBOX"))).startsWith("a2 OK");
        return c;
    }

    @Test
    void longSubjectInEnvelope(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        StringBuilder subject = new StringBuilder("Subject: " + marker);
        for (int i = 0; i < 2000; i++) {
            subject.append("\r\n word").append(i).append(" ").append("y".repeat(40));
        }
        byte[] message = TestMessages.ascii("From: <bob@example.test>\r\nTo: <" + alice.email() + ">\r\n"
                + subject + "\r\nMessage-ID: <" + marker + "@example.test>\r\n\r\nbody\r\n");
        stack.deliver(alice, message);
        StoredMessage stored = Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawImap c = selected(proxy, alice)) {
            List<Response> env = c.command("a3", "UID FETCH " + stored.uid() + " (ENVELOPE BODYSTRUCTURE)");
            assertThat(RawImap.last(env)).startsWith("a3 OK");
            assertThat(RawImap.last(c.command("a4", "NOOP"))).startsWith("a4 OK");
        }
    }

    /**
     * 80 nested multiparts: Dovecot answers BODYSTRUCTURE with lists nested 84 deep. Anyone can mail this to the
     * user; a client that asks for BODYSTRUCTURE (Apple Mail for every message, Thunderbird for large ones) must
     * not lose its session over it, or it reconnects and fails again forever.
     */
    @Test
    void deepMimeNesting(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        int depth = 80;
        StringBuilder body = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            body.append("--b").append(i).append("\r\nContent-Type: multipart/mixed; boundary=\"b").append(i + 1)
                    .append("\"\r\n\r\n");
        }
        body.append("--b").append(depth).append("\r\nContent-Type: text/plain\r\n\r\ninnermost\r\n");
        for (int i = depth; i >= 0; i--) {
            body.append("--b").append(i).append("--\r\n");
        }
        byte[] message = TestMessages.ascii("From: <bob@example.test>\r\nTo: <" + alice.email() + ">\r\n"
                + "Subject: nested " + marker + "\r\nMessage-ID: <" + marker + "@example.test>\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n" + body);
        stack.deliver(alice, message);
        StoredMessage stored = Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow();
        // Dovecot itself answers the FETCH (it bounds MIME nesting on its own).
        try (RawImap direct = new RawImap(stack.clientSocketFactory().createSocket(stack.host(), stack.imapsPort()))) {
            assertThat(direct.readLine()).startsWith("* OK");
            assertThat(RawImap.last(direct.command("d1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                    + RawImap.quoted(alice.password())))).startsWith("d1 OK");
            assertThat(RawImap.last(direct.command("d2", "EXAMINE INBOX"))).startsWith("d2 OK");
            List<Response> bs = direct.command("d3", "UID FETCH " + stored.uid() + " (BODYSTRUCTURE)");
            assertThat(RawImap.last(bs)).startsWith("d3 OK");
        }
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
             RawImap c = selected(proxy, alice)) {
            List<Response> bs = c.command("a3", "UID FETCH " + stored.uid() + " (BODYSTRUCTURE)");
            assertThat(RawImap.last(bs)).startsWith("a3 OK");
            assertThat(RawImap.last(c.command("a4", "NOOP"))).as("the session after a deep BODYSTRUCTURE").startsWith("a4 OK");
            List<Response> body2 = c.command("a5", "UID FETCH " + stored.uid() + " (BODY.PEEK[])");
            assertThat(RawImap.last(body2)).startsWith("a5 OK");
            assertThat(body2.get(0).literals().get(0)).isEqualTo(stored.content());
        }
    }

    /** The untagged responses (text and literals) and the status word of the tagged one. */
    private static List<String> comparable(List<Response> responses) throws NoSuchAlgorithmException {
        List<String> out = new ArrayList<>();
        for (Response r : responses) {
            String text = r.text();
            int space = text.indexOf(' ');
            boolean tagged = !text.startsWith("*") && !text.startsWith("+");
            out.add(tagged ? "TAGGED " + text.substring(space + 1).split(" ")[0] : text);
            for (byte[] literal : r.literals()) {
                out.add("LITERAL " + HexFormat.of().formatHex(
                        MessageDigest.getInstance("SHA-256").digest(literal)) + " " + literal.length);
            }
        }
        return out;
    }

    /**
     * Each FETCH answered through the proxy exactly as Dovecot answers it directly: a plain relay must not change a
     * single response octet, whatever a received message contains.
     */
    private static void sameAsDirect(MailStack stack, RunningProxy proxy, MailUser user, List<String> commands)
            throws Exception {
        try (RawImap direct = new RawImap(stack.clientSocketFactory().createSocket(stack.host(), stack.imapsPort()));
             RawImap relayed = new RawImap(proxy.imapPort())) {
            for (RawImap c : List.of(direct, relayed)) {
                assertThat(c.readLine()).startsWith("* OK");
                assertThat(RawImap.last(c.command("l1", "LOGIN " + RawImap.quoted(user.login()) + " "
                        + RawImap.quoted(user.password())))).startsWith("l1 OK");
                assertThat(RawImap.last(c.command("l2", "EXAMINE INBOX"))).startsWith("l2 OK");
            }
            int n = 0;
            for (String command : commands) {
                String tag = "c" + (++n);
                List<String> expected = comparable(direct.command(tag, command));
                assertThat(comparable(relayed.command(tag, command))).as(command).isEqualTo(expected);
            }
            assertThat(RawImap.last(relayed.command("z1", "NOOP"))).startsWith("z1 OK");
        }
    }

    @Test
    void oddMessagesRelayUnchanged(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        String head = "From: <bob@example.test>\r\nTo: <" + alice.email() + ">\r\nMessage-ID: <%s@example.test>\r\n";
        // A NUL in a header and in the body (RFC 5322 forbids it; mail arrives with it anyway).
        byte[] nul = TestMessages.ascii(String.format(head, marker + "-nul") + "Subject: nul \0 " + marker
                + "\r\n\r\nbody with a \0 NUL\r\n");
        // Raw 8-bit UTF-8 in headers (RFC 6532 style) and a quote and backslash in the subject.
        byte[] eight = (String.format(head, marker + "-8bit") + "Subject: Grüße \"quoted\" back\\slash " + marker
                + "\r\nX-Name: 日本語\r\n\r\nbody\r\n").getBytes(StandardCharsets.UTF_8);
        // Many sibling parts: one long BODYSTRUCTURE line.
        StringBuilder parts = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            parts.append("--s\r\nContent-Type: text/plain; name=\"part").append(i).append(".txt\"\r\n\r\npart ")
                    .append(i).append("\r\n");
        }
        byte[] many = TestMessages.ascii(String.format(head, marker + "-many") + "Subject: many " + marker
                + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"s\"\r\n\r\n" + parts + "--s--\r\n");
        for (byte[] m : List.of(nul, eight, many)) {
            stack.deliver(alice, m);
        }
        List<String> commands = new ArrayList<>();
        for (String suffix : List.of("-nul", "-8bit", "-many")) {
            long uid = Mailboxes.find(stack, alice, "INBOX", marker + suffix).orElseThrow().uid();
            commands.add("UID FETCH " + uid + " (UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)");
            commands.add("UID FETCH " + uid + " (BODY.PEEK[HEADER.FIELDS (SUBJECT X-NAME)] BODY.PEEK[TEXT])");
            commands.add("UID FETCH " + uid + " (BODY.PEEK[])");
        }
        commands.add("UID SEARCH HEADER Subject " + RawImap.quoted(marker));
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            sameAsDirect(stack, proxy, alice, commands);
        }
    }

    /**
     * 5000 parts with long file names: Dovecot's BODYSTRUCTURE for it is one response line of more than a megabyte
     * (imap.limits.max-response-line by default). A mail anyone can send must not cost the user the session.
     */
    @Test
    void hugeBodystructureLine(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        StringBuilder parts = new StringBuilder();
        String longName = "n".repeat(200);
        for (int i = 0; i < 5000; i++) {
            parts.append("--s\r\nContent-Type: text/plain; name=\"").append(longName).append(i)
                    .append(".txt\"\r\n\r\np").append(i).append("\r\n");
        }
        stack.deliver(alice, TestMessages.ascii("From: <bob@example.test>\r\nTo: <" + alice.email()
                + ">\r\nMessage-ID: <" + marker + "@example.test>\r\nSubject: wide " + marker
                + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"s\"\r\n\r\n" + parts + "--s--\r\n"));
        long uid = Mailboxes.find(stack, alice, "INBOX", marker).orElseThrow().uid();
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            sameAsDirect(stack, proxy, alice, List.of("UID FETCH " + uid + " (BODYSTRUCTURE)", "UID FETCH " + uid + " (BODY.PEEK[])"));
        }
    }
}
