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
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The provider's submission service goes away (Postfix stopped): a client gets a temporary failure, never a 250
 * (SECURITY.md 14: the client keeps the message and retries), IMAP through the same daemon keeps working, and once
 * Postfix is back the same daemon sends again.
 */
@RequiresMailStack
class UpstreamDownE2eTest {

    @TempDir
    Path dir;

    private static String send(RunningProxy proxy, MailUser from, MailUser to, String marker) throws IOException {
        try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
            assertThat(c.reply()).startsWith("220 ");
            assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
            String auth = c.command("AUTH PLAIN " + RawSmtp.plain(from.login(), from.password()));
            if (!auth.startsWith("235")) {
                return auth;
            }
            String mail = c.command("MAIL FROM:<" + from.email() + ">");
            if (!mail.startsWith("250")) {
                return mail;
            }
            assertThat(c.command("RCPT TO:<" + to.email() + ">")).startsWith("250");
            assertThat(c.command("DATA")).startsWith("354");
            c.send(TestMessages.plain(from.email(), to.email(), marker, "retry me\r\n"));
            String end = c.command(".");
            c.command("QUIT");
            return end;
        }
    }

    @Test
    void submissionDownGivesTemporaryFailureAndRecovers(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String seedMarker = UUID.randomUUID().toString();
        stack.deliver(alice, TestMessages.plain(bob.email(), alice.email(), seedMarker, "still readable\r\n"));
        StoredMessage seeded = Mailboxes.find(stack, alice, "INBOX", seedMarker).orElseThrow();
        String lostMarker = "while-down-" + UUID.randomUUID();
        String laterMarker = "after-restart-" + UUID.randomUUID();

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.STARTTLS)) {
            stack.stopPostfix();
            try {
                String reply = send(proxy, alice, bob, lostMarker);
                assertThat(reply).as("what the client hears while the provider is down").matches("^4\\d\\d .*");

                try (RawImap imap = new RawImap(proxy.imapPort())) {
                    assertThat(imap.readLine()).startsWith("* OK");
                    assertThat(RawImap.last(imap.command("i1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                            + RawImap.quoted(alice.password())))).startsWith("i1 OK");
                    assertThat(RawImap.last(imap.command("i2", "EXAMINE INBOX"))).startsWith("i2 OK");
                    List<Response> fetch = imap.command("i3", "UID FETCH " + seeded.uid() + " (BODY.PEEK[])");
                    assertThat(RawImap.last(fetch)).startsWith("i3 OK");
                    assertThat(fetch.get(0).literals()).containsExactly(seeded.content());
                }
            } finally {
                stack.startPostfix();
            }
            assertThat(send(proxy, alice, bob, laterMarker)).startsWith("250");
        }
        Mailboxes.awaitDelivered(stack, bob, laterMarker);
        assertThat(Mailboxes.find(stack, bob, "INBOX", lostMarker)).isEmpty();
    }
}
