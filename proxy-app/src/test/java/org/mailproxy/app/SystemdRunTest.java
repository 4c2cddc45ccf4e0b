package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.app.systemd.NotifySocket;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.TestFiles.q;

/**
 * {@code mailproxy run} as systemd starts it with {@code Type=notify}: in its own JVM, {@code $NOTIFY_SOCKET}
 * naming a real Unix datagram socket, standard error connected to what {@code $JOURNAL_STREAM} names.
 */
class SystemdRunTest {

    @TempDir
    Path tmp;

    /**
     * Starts {@code mailproxy run} with standard error appended to {@code stderr} (created here), and
     * {@code JOURNAL_STREAM} set to {@code journalStream}, or to that file's identity when {@code null}.
     */
    private Process start(String notifySocket, String journalStream, Path stderr, int imapPort) throws Exception {
        Path conf = TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(tmp.resolve("data")) + "\n"
                + "  imap.listen = \"127.0.0.1:" + imapPort + "\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = off\n"
                + "  shutdown.grace-period = 3s\n"
                + "}\n");
        Files.createFile(stderr);
        String journal = journalStream != null ? journalStream : identity(stderr);
        ProcessBuilder pb = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "--config", conf.toString());
        pb.environment().put("MAILPROXY_LOG_LEVEL", "INFO");
        pb.environment().put("NOTIFY_SOCKET", notifySocket);
        pb.environment().put("JOURNAL_STREAM", journal);
        pb.redirectError(ProcessBuilder.Redirect.appendTo(stderr.toFile()));
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        return pb.start();
    }

    /** st_dev:st_ino of a file, as systemd formats JOURNAL_STREAM. */
    private static String identity(Path file) throws Exception {
        return Files.getAttribute(file, "unix:dev") + ":" + Files.getAttribute(file, "unix:ino");
    }

    @Test
    void readyComesOnceTheListenersAnswerAndStoppingWhenSigtermStartsTheDrain() throws Exception {
        int imapPort = TestFiles.freePort();
        String name = "mailproxy-test-" + UUID.randomUUID();
        Path stderr = tmp.resolve("stderr");
        try (NotifySocket manager = NotifySocket.abstractName(name)) {
            Process p = start(manager.notifySocket(), "0:0", stderr, imapPort);
            try {
                List<String> ready = manager.await(1);
                assertThat(ready.get(0)).startsWith("READY=1\nSTATUS=listening: imap 127.0.0.1:" + imapPort + ", smtp 127.0.0.1:")
                        .endsWith("\n");
                // READY=1 was sent after the bind: the port answers at once.
                new Socket("127.0.0.1", imapPort).close();

                p.toHandle().destroy();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(manager.await(2).get(1)).isEqualTo("STOPPING=1\nSTATUS=stopping: draining sessions\n");
                assertThat(manager.received()).hasSize(2);
            } finally {
                p.destroyForcibly();
            }
        }
        // JOURNAL_STREAM named something else (a shell redirection inherits the variable): the usual format.
        assertThat(Files.readAllLines(stderr)).anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT.* INFO  .*mailproxy ready.*"));
    }

    @Test
    void underTheJournalEachLineCarriesItsPriorityAndNoTimestamp() throws Exception {
        Path stderr = tmp.resolve("stderr");
        try (NotifySocket manager = NotifySocket.atPath(tmp.resolve("notify"))) {
            Process p = start(manager.notifySocket(), null, stderr, TestFiles.freePort());
            try {
                manager.await(1);
                p.toHandle().destroy();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                p.destroyForcibly();
            }
        }
        List<String> lines = Files.readAllLines(stderr);
        assertThat(lines).isNotEmpty()
                .allMatch(l -> l.matches("<[3-7]>(ERROR|WARN |INFO |DEBUG|TRACE) \\[.*"), "a priority prefix, no timestamp")
                .anyMatch(l -> l.startsWith("<6>INFO  ") && l.contains("mailproxy ready"))
                .anyMatch(l -> l.startsWith("<4>WARN  ") && l.contains("no accounts"))
                .anyMatch(l -> l.startsWith("<6>INFO  ") && l.contains("mailproxy stopped"));
    }

    @Test
    void aFailedStartIsOneLineAtErrPriority() throws Exception {
        Path stderr = tmp.resolve("stderr");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"));
             NotifySocket manager = NotifySocket.atPath(tmp.resolve("notify"))) {
            Process p = start(manager.notifySocket(), null, stderr, taken.getLocalPort());
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(2);
            assertThat(manager.received()).isEmpty();
        }
        assertThat(Files.readAllLines(stderr)).containsExactly("<3>mailproxy.conf:3: mailproxy.imap.listen: 127.0.0.1:"
                + Files.readString(tmp.resolve("mailproxy.conf")).replaceAll("(?s).*imap.listen = \"127.0.0.1:(\\d+)\".*", "$1")
                + " is already in use");
    }
}
