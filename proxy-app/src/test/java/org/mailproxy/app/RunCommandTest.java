package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.TestFiles.q;

/**
 * {@code mailproxy run} as users run it: in its own JVM, stopped with SIGTERM; and refusing a taken port with one
 * line naming file, line and key.
 */
class RunCommandTest {

    @TempDir
    Path tmp;

    private Path conf(int imapPort, int smtpPort) throws Exception {
        return TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(tmp.resolve("data")) + "\n"
                + "  imap.listen = \"127.0.0.1:" + imapPort + "\"\n"
                + "  smtp.listen = \"127.0.0.1:" + smtpPort + "\"\n"
                + "  http.listen = off\n"
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
        try (MailproxyProcess p = new MailproxyProcess("run", "--config", conf(imapPort, 0).toString())) {
            p.awaitLine(p.err, l -> l.contains("mailproxy ready"));
            assertThat(p.err).anyMatch(l -> l.contains("mailproxy ready: imap 127.0.0.1:" + imapPort));
            new Socket("127.0.0.1", imapPort).close();

            int exit = p.terminate();
            assertThat(p.err).anyMatch(l -> l.contains("mailproxy stopping")).anyMatch(l -> l.contains("mailproxy stopped"));
            // 128 + SIGTERM: the JVM exits as a signalled process does, after the shutdown hook has run.
            assertThat(exit).isEqualTo(143);
        }
    }
}
