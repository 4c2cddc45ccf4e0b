package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several real clients at once through one daemon, for different users, over TLS to the proxy: curl fetches of a
 * multi-MB message (alice and carol) while swaks submits. Sessions share the event loops, so a mix-up of buffers or
 * state between sessions shows up as a wrong octet or a message in the wrong place.
 */
@RequiresMailStack
class ParallelClientsE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    void clientsAtOnceGetTheirOwnBytes(MailStack stack) throws Exception {
        Tool curl = Tool.require("curl");
        Tool swaks = Tool.require("swaks");
        List<MailUser> readers = List.of(stack.alice(), stack.carol());
        List<StoredMessage> big = new ArrayList<>();
        for (MailUser u : readers) {
            String marker = UUID.randomUUID().toString();
            stack.deliver(u, TestMessages.withAttachment(stack.bob().email(), u.email(), marker,
                    1_500_000 + big.size() * 100_000, 10 + big.size()));
            big.add(Mailboxes.find(stack, u, "INBOX", marker).orElseThrow());
        }
        List<String> sendMarkers = List.of("par-a-" + UUID.randomUUID(), "par-b-" + UUID.randomUUID(),
                "par-c-" + UUID.randomUUID());

        ExecutorService pool = Executors.newFixedThreadPool(9);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.STARTTLS, Upstream.IMPLICIT)) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < readers.size(); i++) {
                    MailUser u = readers.get(i);
                    StoredMessage expected = big.get(i);
                    Path work = Files.createTempDirectory(dir, "curl");
                    jobs.add(pool.submit(() -> {
                        Tool.Result r = curl.run(work, TIMEOUT, List.of("-s", "-S", "--max-time", "60",
                                "--ssl-reqd", "--cacert", proxy.localCert().toString(),
                                "--url", "imap://127.0.0.1:" + proxy.imapPort() + "/INBOX;UID=" + expected.uid(),
                                "--user", u.login() + ":" + u.password()));
                        assertThat(r.exit()).as(r.describe()).isZero();
                        assertThat(r.stdout()).as("%s's message", u.email()).isEqualTo(expected.content());
                        return null;
                    }));
                }
            }
            for (String marker : sendMarkers) {
                Path work = Files.createTempDirectory(dir, "swaks");
                MailUser from = stack.alice();
                byte[] message = TestMessages.plain(from.email(), stack.bob().email(), marker, "parallel\r\n");
                jobs.add(pool.submit(() -> {
                    Tool.Result r = swaks.run(work, TIMEOUT, List.of("--server", "127.0.0.1",
                            "--port", Integer.toString(proxy.smtpPort()), "-tls",
                            "--from", from.email(), "--to", stack.bob().email(),
                            "--auth", "PLAIN", "--auth-user", from.login(), "--auth-password", from.password(),
                            "--data", "-", "--timeout", "60"), Arrays.copyOf(message, message.length - 2),
                            Map.of());
                    assertThat(r.exit()).as(r.describe() + "\n" + r.out()).isZero();
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (String marker : sendMarkers) {
            assertThat(Mailboxes.awaitDelivered(stack, stack.bob(), marker).text()).endsWith("\r\n\r\nparallel\r\n");
        }
    }
}
