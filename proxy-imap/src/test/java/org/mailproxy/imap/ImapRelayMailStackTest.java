package org.mailproxy.imap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Through the proxy to a real Dovecot: login, SELECT, FETCH, APPEND and IDLE. */
@RequiresMailStack
class ImapRelayMailStackTest {

    @TempDir
    Path dir;

    private void session(MailStack stack, String url) throws Exception {
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] delivered = ("From: bob@example.test\r\nTo: " + alice.email() + "\r\nSubject: fetch " + marker
                + "\r\nMessage-ID: <" + marker + "@example.test>\r\n\r\nbody " + marker + "\r\n").getBytes(StandardCharsets.US_ASCII);
        stack.deliver(alice, delivered);
        try (ImapProxyFixture p = new ImapProxyFixture(dir, Map.of("alice", url), "", stack.caCertFile());
             ImapTestClient c = new ImapTestClient(p.port())) {
            c.readResponse();
            List<String> login = c.command("a1", "LOGIN \"" + alice.login() + "\" \"" + alice.password() + "\"");
            assertThat(login).last().asString().startsWith("a1 OK [CAPABILITY IMAP4rev1").doesNotContain("COMPRESS", "LITERAL+", "AUTH=");
            List<String> select = c.command("a2", "SELECT INBOX");
            assertThat(select).last().asString().startsWith("a2 OK");
            long exists = select.stream().filter(l -> l.endsWith(" EXISTS")).mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                    .findFirst().orElseThrow();
            List<String> fetch = c.command("a3", "FETCH " + exists + " (UID BODY.PEEK[])");
            assertThat(fetch).last().asString().startsWith("a3 OK");
            assertThat(c.literals.get(c.literals.size() - 1)).isEqualTo(delivered);

            byte[] appended = ("Subject: append " + marker + "\r\n\r\nappended\r\n").getBytes(StandardCharsets.US_ASCII);
            c.send("a4 APPEND INBOX (\\Seen) {" + appended.length + "}\r\n");
            assertThat(c.readLine()).startsWith("+");
            c.send(appended);
            c.send("\r\n");
            assertThat(c.readUntilTagged("a4")).last().asString().startsWith("a4 OK");

            c.send("a5 IDLE\r\n");
            assertThat(c.readLine()).startsWith("+");
            stack.deliver(alice, ("Subject: idle " + marker + "\r\n\r\nnew\r\n").getBytes(StandardCharsets.US_ASCII));
            String update;
            do {
                update = c.readResponse();
            } while (update != null && !update.endsWith(" EXISTS"));
            assertThat(update).isNotNull();
            c.send("DONE\r\n");
            assertThat(c.readUntilTagged("a5")).last().asString().startsWith("a5 OK");
            assertThat(c.command("a6", "LOGOUT")).last().asString().startsWith("a6 OK");
        }
        List<StoredMessage> inbox = stack.messages(alice, "INBOX");
        assertThat(inbox).anyMatch(m -> m.text().contains("append " + marker));
    }

    @Test
    void implicitTls(MailStack stack) throws Exception {
        session(stack, "imaps://" + stack.host() + ":" + stack.imapsPort());
    }

    @Test
    void mandatoryStarttls(MailStack stack) throws Exception {
        session(stack, "imap+starttls://" + stack.host() + ":" + stack.imapStarttlsPort());
    }
}
