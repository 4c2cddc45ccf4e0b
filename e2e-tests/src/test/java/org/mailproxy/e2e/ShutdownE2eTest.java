package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Stopping the daemon the way SIGTERM does while clients are connected: listeners stop accepting at once, an SMTP
 * transaction in the middle of DATA may finish within the grace period and its message is delivered, an idle IMAP
 * session is closed with BYE, and stop() returns.
 */
@RequiresMailStack
class ShutdownE2eTest {

    @TempDir
    Path dir;

    private static boolean refusesConnections(int port) {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void transactionInFlightFinishesAndIdleSessionsClose(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String marker = "in-flight-" + UUID.randomUUID();
        RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT);
        int imapPort = proxy.imapPort();
        int smtpPort = proxy.smtpPort();
        try (RawImap imap = new RawImap(imapPort); RawSmtp smtp = new RawSmtp(smtpPort)) {
            assertThat(imap.readLine()).startsWith("* OK");
            assertThat(RawImap.last(imap.command("a1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                    + RawImap.quoted(alice.password())))).startsWith("a1 OK");
            assertThat(RawImap.last(imap.command("a2", "SELECT INBOX"))).startsWith("a2 OK");

            assertThat(smtp.reply()).startsWith("220 ");
            assertThat(smtp.command("EHLO client.example.test")).startsWith("250 ");
            assertThat(smtp.command("AUTH PLAIN " + RawSmtp.plain(alice.login(), alice.password()))).startsWith("235");
            assertThat(smtp.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
            assertThat(smtp.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
            assertThat(smtp.command("DATA")).startsWith("354");
            byte[] message = TestMessages.plain(alice.email(), bob.email(), marker, "sent during shutdown\r\n");
            smtp.send(Arrays.copyOf(message, message.length / 2));

            CompletableFuture<Void> stopped = CompletableFuture.runAsync(proxy::close);
            await("listeners closed").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> refusesConnections(imapPort) && refusesConnections(smtpPort));

            smtp.send(Arrays.copyOfRange(message, message.length / 2, message.length));
            assertThat(smtp.command(".")).as("the transaction in flight completes").startsWith("250");

            List<String> rest = imap.readUntilClosed();
            assertThat(rest).as("the IMAP session is told why it ends").anySatisfy(l -> assertThat(l).startsWith("* BYE"));
            stopped.get();
            assertThat(stopped).isDone();
        } finally {
            proxy.close();
        }
        Mailboxes.awaitDelivered(stack, bob, marker);
        assertThatThrownBy(() -> new Socket("127.0.0.1", smtpPort).close()).isInstanceOf(ConnectException.class);
    }
}
