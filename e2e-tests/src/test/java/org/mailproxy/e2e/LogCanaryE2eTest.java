package org.mailproxy.e2e;

import ch.qos.logback.classic.spi.ILoggingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RawImap.Response;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SECURITY.md 24: logs never contain credentials or message bodies, at any log level. A full run at TRACE, IMAP and
 * SMTP, with refused and accepted logins (LOGIN, AUTHENTICATE PLAIN, AUTH PLAIN, AUTH LOGIN), an APPEND, a FETCH
 * and a submitted message, all carrying canaries; then every captured event (message, arguments, exceptions, MDC)
 * is searched for the canaries in clear and in the base64 forms the SASL exchanges use.
 */
@RequiresMailStack
class LogCanaryE2eTest {

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


    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Everything an appender or encoder could write for an event. */

    @Test
    void credentialsAndBodiesNeverReachTheLogs(MailStack stack) throws IOException {
        MailUser alice = stack.alice();
        MailUser bob = stack.bob();
        String canaryPassword = "canary-pw-" + UUID.randomUUID();
        String canaryBody = "canary-body-" + UUID.randomUUID();
        String marker = UUID.randomUUID().toString();

        try (RunningProxy proxy = RunningProxy.start(stack, dir, Local.OFF, Upstream.IMPLICIT)) {
            // IMAP: a refused LOGIN, a refused AUTHENTICATE PLAIN, then the real login, APPEND and FETCH.
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                assertThat(RawImap.last(c.command("a1", "LOGIN " + RawImap.quoted(alice.login()) + " "
                        + RawImap.quoted(canaryPassword)))).startsWith("a1 NO");
            }
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                c.send("a2 AUTHENTICATE PLAIN\r\n");
                String cont = c.readLine();
                if (cont.startsWith("+")) {
                    c.send(b64("\0" + alice.login() + "\0" + canaryPassword) + "\r\n");
                    assertThat(RawImap.last(c.readUntilTagged("a2"))).startsWith("a2 ");
                } else {
                    assertThat(cont).startsWith("a2 ");
                }
            }
            try (RawImap c = new RawImap(proxy.imapPort())) {
                assertThat(c.readLine()).startsWith("* OK");
                assertThat(RawImap.last(c.command("a3", "LOGIN " + RawImap.quoted(alice.login()) + " "
                        + RawImap.quoted(alice.password())))).startsWith("a3 OK");
                byte[] appended = TestMessages.plain(bob.email(), alice.email(), marker, canaryBody + "\r\n");
                c.send("a4 APPEND INBOX {" + appended.length + "}\r\n");
                assertThat(c.readLine()).startsWith("+");
                c.send(appended);
                c.send("\r\n");
                assertThat(RawImap.last(c.readUntilTagged("a4"))).startsWith("a4 OK");
                assertThat(RawImap.last(c.command("a5", "SELECT INBOX"))).startsWith("a5 OK");
                List<Response> fetch = c.command("a6", "UID FETCH 1:* (BODY.PEEK[])");
                assertThat(RawImap.last(fetch)).startsWith("a6 OK");
                assertThat(fetch.stream().flatMap(r -> r.literals().stream())
                        .anyMatch(l -> new String(l, StandardCharsets.UTF_8).contains(canaryBody))).isTrue();
                assertThat(RawImap.last(c.command("a7", "LOGOUT"))).startsWith("a7 OK");
            }

            // SMTP: a refused AUTH PLAIN and AUTH LOGIN, then a message with the canary body.
            try (RawSmtp c = new RawSmtp(proxy.smtpPort())) {
                assertThat(c.reply()).startsWith("220 ");
                assertThat(c.command("EHLO client.example.test")).startsWith("250 ");
                assertThat(c.command("AUTH PLAIN " + RawSmtp.plain(alice.login(), canaryPassword))).startsWith("535");
                assertThat(c.command("AUTH LOGIN")).startsWith("334");
                assertThat(c.command(b64(alice.login()))).startsWith("334");
                assertThat(c.command(b64(canaryPassword))).startsWith("535");
                assertThat(c.command("AUTH PLAIN " + RawSmtp.plain(alice.login(), alice.password()))).startsWith("235");
                assertThat(c.command("MAIL FROM:<" + alice.email() + ">")).startsWith("250");
                assertThat(c.command("RCPT TO:<" + bob.email() + ">")).startsWith("250");
                assertThat(c.command("DATA")).startsWith("354");
                c.send(TestMessages.plain(alice.email(), bob.email(), marker, canaryBody + "\r\n"));
                assertThat(c.command(".")).startsWith("250");
                assertThat(c.command("QUIT")).startsWith("221");
            }
            Mailboxes.awaitDelivered(stack, bob, marker);
            await("all sessions logged as closed").atMost(Duration.ofSeconds(20)).until(() ->
                    logs.events().stream().filter(e -> e.getFormattedMessage().contains(" closed")).count() >= 4); // 3 IMAP, 1 SMTP
        }

        List<String> secrets = new ArrayList<>(List.of(
                canaryPassword, b64(canaryPassword), b64("\0" + alice.login() + "\0" + canaryPassword),
                alice.password(), b64(alice.password()), b64("\0" + alice.login() + "\0" + alice.password()),
                canaryBody));
        List<ILoggingEvent> events = logs.events();
        assertThat(events).as("the run was logged at all").hasSizeGreaterThan(10);
        for (ILoggingEvent e : events) {
            String text = CapturedLogs.everything(e);
            for (String secret : secrets) {
                assertThat(text).as("log event from %s", e.getLoggerName()).doesNotContain(secret);
            }
        }
    }
}
