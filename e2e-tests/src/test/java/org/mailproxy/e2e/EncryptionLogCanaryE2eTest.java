package org.mailproxy.e2e;

import ch.qos.logback.classic.spi.ILoggingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.RequiresMailStack;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mailproxy.e2e.PgpWorld.ALICE;
import static org.mailproxy.e2e.PgpWorld.BOB;
import static org.mailproxy.e2e.PgpWorld.CAROL;

/**
 * SECURITY.md 24 with encryption on, at TRACE: the key's passphrase (read from its file at start), the Subject and
 * body of encrypted mail, of a Bcc copy, and of a message refused for a malformed header section never appear in
 * any log event (message, arguments, MDC, exceptions).
 */
@RequiresMailStack
class EncryptionLogCanaryE2eTest {

    private CapturedLogs logs;

    @TempDir
    Path dir;

    @BeforeEach
    void captureEverything() {
        logs = CapturedLogs.atTrace();
    }

    @AfterEach
    void restore() {
        logs.close();
    }



    @Test
    void passphraseSubjectsAndBodiesNeverReachTheLogs(MailStack stack) throws Exception {
        String run = UUID.randomUUID().toString();
        String subjectWord = "canary-subject-" + run;
        String bodyWord = "canary-body-" + run;
        String badHeader = "canary-bad-header-" + run;
        String marker = "canary-" + run;
        String bccMarker = "canary-bcc-" + run;
        try (PgpWorld world = new PgpWorld(dir, BOB, CAROL);
             RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT, "",
                     world.aliceAccount(""));
             RawSmtp c = RawSmtp.authenticated(proxy.smtpPort(), stack.alice())) {
            List<String> sent = c.transaction(ALICE, List.of(BOB),
                    TestMessages.secret(ALICE, BOB, marker, subjectWord, bodyWord));
            assertThat(sent.get(sent.size() - 1)).as("encrypted message: " + sent).startsWith("250 ");
            List<String> bcc = c.transaction(ALICE, List.of(BOB, CAROL),
                    TestMessages.secret(ALICE, BOB, bccMarker, subjectWord, bodyWord));
            assertThat(bcc.get(bcc.size() - 1)).as("message with a Bcc recipient: " + bcc).startsWith("250 ");
            // a header section that cannot be parsed: refused before anything is encrypted
            List<String> bad = c.transaction(ALICE, List.of(BOB), TestMessages.ascii("From: <" + ALICE + ">\r\n"
                    + badHeader + " without a colon\r\nSubject: " + subjectWord + "\r\n\r\n" + bodyWord + "\r\n"));
            assertThat(bad.get(bad.size() - 1)).as("malformed header: " + bad).matches("^554 5\\.6\\.0 .*");
            assertThat(c.command("QUIT")).as("QUIT").matches("^(221|421) .*");
            Mailboxes.awaitDelivered(stack, stack.bob(), marker);
            Mailboxes.awaitDelivered(stack, stack.carol(), bccMarker);
            await("the session logged as closed").atMost(Duration.ofSeconds(20))
                    .until(() -> logs.events().stream().anyMatch(e -> e.getFormattedMessage().contains(" closed")));
        }
        List<ILoggingEvent> events = logs.events();
        assertThat(events).as("the key was unlocked from its passphrase file, and said so")
                .anyMatch(e -> e.getFormattedMessage().startsWith("account " + ALICE + ": key ")
                        && e.getFormattedMessage().endsWith(" unlocked"));
        List<String> secrets = List.of(PgpWorld.PASSPHRASE, subjectWord, bodyWord, badHeader);
        for (ILoggingEvent e : events) {
            String text = CapturedLogs.everything(e);
            for (String secret : secrets) {
                assertThat(text).as("log event from %s", e.getLoggerName()).doesNotContain(secret);
            }
        }
    }
}
