package org.mailproxy.app;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mailproxy.app.TestFiles.q;

/**
 * {@code mailproxy run} as users run it: in its own JVM, stopped with SIGTERM; and refusing a taken port with one
 * line naming file, line and key.
 */
@Disabled("waiting for the real IMAP and SMTP relays and probes (proxy-imap, proxy-smtp) in ~/.m2")
class RunCommandTest {

    @TempDir
    Path tmp;

    private Path conf(int imapPort, int smtpPort) throws Exception {
        return TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(tmp.resolve("data")) + "\n"
                + "  imap.listen = \"127.0.0.1:" + imapPort + "\"\n"
                + "  smtp.listen = \"127.0.0.1:" + smtpPort + "\"\n"
                + "  metrics.listen = off\n"
                + "  shutdown.grace-period = 3s\n"
                + "}\n");
    }

    @Test
    void aTakenImapPortIsOneLineWithFileLineAndKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "run", "--config", conf(port, 0).toString());
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("mailproxy.conf:3: mailproxy.imap.listen: 127.0.0.1:" + port + " is already in use"
                    + System.lineSeparator());
        }
    }

    @Test
    void sigtermStopsTheDaemonGracefully() throws Exception {
        int imapPort = TestFiles.freePort();
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "run", "--config", conf(imapPort, 0).toString());
        pb.environment().put("MAILPROXY_LOG_LEVEL", "INFO");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> lines.stream().anyMatch(l -> l.contains("mailproxy ready"))
                    || !p.isAlive());
            assertThat(lines).anyMatch(l -> l.contains("mailproxy ready: imap 127.0.0.1:" + imapPort));
            new Socket("127.0.0.1", imapPort).close();

            p.destroy(); // SIGTERM
            assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            reader.join(5000);
            assertThat(lines).anyMatch(l -> l.contains("mailproxy stopping")).anyMatch(l -> l.contains("mailproxy stopped"));
            // 128 + SIGTERM: the JVM exits the way a signal-terminated process does, after the shutdown hook ran.
            assertThat(p.exitValue()).isEqualTo(143);
        } finally {
            p.destroyForcibly();
        }
    }
}
