package org.mailproxy.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mailproxy.app.TestFiles.q;

/**
 * Start-up refusals and the SIGTERM sequence of the daemon, with listeners that bind for real but relay nothing
 * (the relays have their own tests; {@link DemoTest} runs a client through the whole thing).
 */
class DaemonTest {

    @TempDir
    Path tmp;

    private final List<Daemon> started = new ArrayList<>();
    private final AtomicReference<FakeListener> imap = new AtomicReference<>();
    private final AtomicReference<FakeListener> smtp = new AtomicReference<>();

    @AfterEach
    void stopAll() {
        started.forEach(Daemon::stop);
    }

    private MailproxyConfig config(String body) throws Exception {
        return new ConfigLoader(Map.of()).loadString("mailproxy {\n"
                + "  data-dir = " + q(tmp.resolve("data")) + "\n"
                + body
                + "}\n", "mailproxy.conf");
    }

    private MailproxyConfig ports(int imapPort, int smtpPort, String metrics) throws Exception {
        return config("  imap.listen = \"127.0.0.1:" + imapPort + "\"\n"
                + "  smtp.listen = \"127.0.0.1:" + smtpPort + "\"\n"
                + "  http.listen = \"" + metrics + "\"\n"
                + "  shutdown.grace-period = 7s\n");
    }

    private Daemon start(MailproxyConfig config) {
        Daemon d = Daemon.start(config, c -> {
            imap.set(FakeListener.imap(c));
            return imap.get();
        }, c -> {
            smtp.set(FakeListener.smtp(c));
            return smtp.get();
        });
        started.add(d);
        return d;
    }

    @Test
    void startsListenersCreatesTheDataDirAndServesMetrics() throws Exception {
        Daemon d = start(ports(0, 0, "127.0.0.1:0"));
        assertThat(d.imapAddress().getPort()).isPositive();
        assertThat(d.smtpAddress().getPort()).isPositive();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tmp.resolve("data")))).isEqualTo("rwx------");
        // The generated local certificate stays owner-only, so the next start passes the data-dir check.
        assertThat(Files.exists(tmp.resolve("data/tls/local-cert.pem"))).isTrue();
        DataDirectory.verify(d.config());

        imap.get().metrics.sessionOpened();
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + d.httpAddress().orElseThrow().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).contains("mailproxy_sessions_total{protocol=\"imap\"} 1.0")
                .contains("mailproxy_sessions_active{protocol=\"smtp\"} 0.0")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void metricsOffMeansNoEndpoint() throws Exception {
        Daemon d = start(ports(0, 0, "off"));
        assertThat(d.httpAddress()).isEmpty();
    }

    @Test
    void aTakenPortIsRefusedNamingFileLineAndKey() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> start(ports(0, port, "off")))
                    .isInstanceOf(ConfigError.class)
                    .hasMessage("mailproxy.conf:4: mailproxy.smtp.listen: 127.0.0.1:" + port + " is already in use");
            // What had started is closed again.
            assertThat(imap.get().closed()).isTrue();
        }
    }

    @Test
    void aTakenMetricsPortIsRefusedToo() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> start(ports(0, 0, "127.0.0.1:" + port)))
                    .hasMessage("mailproxy.conf:5: mailproxy.http.listen: 127.0.0.1:" + port + " is already in use");
            assertThat(imap.get().closed()).isTrue();
            assertThat(smtp.get().closed()).isTrue();
        }
    }

    @Test
    void aNonLoopbackListenAddressIsRefused() throws Exception {
        assertThatThrownBy(() -> start(config("  imap.listen = \"0.0.0.0:1143\"\n")))
                .isInstanceOf(ConfigError.class)
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.imap.listen: 0.0.0.0:1143 is beyond loopback,");
        assertThatThrownBy(() -> start(config("  http.listen = \"192.0.2.1:9464\"\n")))
                .hasMessageStartingWith("mailproxy.conf:3: mailproxy.http.listen: 192.0.2.1:9464 is beyond loopback,");
        assertThat(imap.get()).isNull();
    }

    @Test
    void anExposedDataDirStopsTheStart() throws Exception {
        Path data = Files.createDirectory(tmp.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxrwxr-x"));
        assertThatThrownBy(() -> start(ports(0, 0, "off")))
                .hasMessageStartingWith("mailproxy.conf:2: mailproxy.data-dir: " + data + " is accessible to its group and other users");
        assertThat(imap.get()).isNull();
    }

    @Test
    void stopStopsAcceptingThenDrainsWithTheGracePeriodThenCloses() throws Exception {
        Daemon d = start(ports(0, 0, "127.0.0.1:0"));
        CompletableFuture<Void> smtpInFlight = new CompletableFuture<>();
        smtp.get().drained = smtpInFlight;
        InetSocketAddress metrics = d.httpAddress().orElseThrow();

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(d::stop);
        await().atMost(Duration.ofSeconds(5)).until(() -> smtp.get().calls.contains("drainAndClose PT7S"));
        assertThat(imap.get().calls).containsExactly("start", "stopAccepting", "drainAndClose PT7S");
        assertThat(smtp.get().calls).containsExactly("start", "stopAccepting", "drainAndClose PT7S");
        // An SMTP transaction is still in flight: the daemon waits for it.
        assertThat(stopping).isNotDone();

        smtpInFlight.complete(null);
        stopping.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(imap.get().closed()).isTrue();
        assertThat(smtp.get().closed()).isTrue();
        assertThat(d.context().loops().workers().isShutdown()).isTrue();
        assertThatThrownBy(() -> new Socket(metrics.getAddress(), metrics.getPort()).close())
                .isInstanceOf(java.net.ConnectException.class);
        // A second stop (the shutdown hook after a programmatic stop) returns at once.
        d.stop();
    }
}
