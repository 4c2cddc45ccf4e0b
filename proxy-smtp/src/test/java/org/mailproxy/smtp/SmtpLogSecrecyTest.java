package org.mailproxy.smtp;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** SECURITY.md 24: at every log level, no password (plain or base64) and no message body reaches the log. */
class SmtpLogSecrecyTest {

    private static final String PASSWORD = "Canary-Pw-7731";
    private static final String BODY = "canary-body-5519";

    @TempDir
    Path dir;

    @Test
    void noCredentialOrBodyIsLogged() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger ours = (Logger) LoggerFactory.getLogger("org.mailproxy");
        Level before = ours.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        ours.setLevel(Level.TRACE);
        try {
            FakeSmtpServer.Options o = new FakeSmtpServer.Options();
            o.users = Map.of("alice", PASSWORD);
            try (FakeSmtpServer up = new FakeSmtpServer(o);
                 ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "")) {
                try (TestClient c = new TestClient(p.port())) {
                    c.reply();
                    assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", "wrong-" + PASSWORD))).startsWith("535");
                    assertThat(c.cmd("AUTH LOGIN")).startsWith("334");
                    c.cmd(TestClient.b64("alice"));
                    assertThat(c.cmd(TestClient.b64(PASSWORD))).startsWith("235");
                    c.cmd("MAIL FROM:<alice@example.com>");
                    c.cmd("RCPT TO:<bob@example.org>");
                    c.cmd("DATA");
                    assertThat(c.cmd("Subject: " + BODY + "\r\n\r\n" + BODY + "\r\n.")).startsWith("250");
                    // A refused message and a dropped client, to exercise the failure paths' logging too.
                    c.cmd("MAIL FROM:<alice@example.com>");
                    c.cmd("RCPT TO:<bob@example.org>");
                    c.cmd("DATA");
                    assertThat(c.cmd(BODY + "\n" + BODY + "\r\n.")).startsWith("554");
                }
                await().until(() -> p.proxy.activeSessions() == 0);
            }
        } finally {
            ours.setLevel(before);
            root.detachAppender(appender);
        }
        List<String> forbidden = List.of(PASSWORD, TestClient.b64(PASSWORD), TestClient.plain("alice", PASSWORD),
                TestClient.plain("alice", "wrong-" + PASSWORD), BODY);
        assertThat(appender.list).isNotEmpty();
        for (ILoggingEvent e : appender.list) {
            String text = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(e.getThrowableProxy()));
            for (String f : forbidden) {
                assertThat(text).as("log line %s", e).doesNotContain(f);
            }
        }
    }
}
