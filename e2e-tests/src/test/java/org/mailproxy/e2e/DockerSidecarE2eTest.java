package org.mailproxy.e2e;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.HealthCheck;
import jakarta.activation.DataHandler;
import jakarta.activation.DataSource;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.search.MessageIDTerm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.Slf4jLogConsumer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.LogUtils;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The Docker sidecar as a user runs it: the image docker/Dockerfile builds, with its baked-in configuration filled
 * from environment variables and its secrets (key passphrase, provider password, local password) from files under
 * /run/secrets, beside the test provider on a container network. Clients reach the proxy from outside its container,
 * so local authentication is in force: they log in with the local password, and the proxy logs in upstream with the
 * provider password it stored encrypted in its volume on first start.
 *
 * <p>One proxy container serves the whole class (its first start generates the key); the last test stops it.
 */
@Tag("container")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DockerSidecarE2eTest {

    private static final String EMAIL = "alice@example.test";
    private static final String PROVIDER_PASSWORD = "alice-secret";
    private static final String PASSPHRASE = "sidecar key passphrase " + UUID.randomUUID();
    private static final String LOCAL_PASSWORD = randomPassword();
    private static final String DOVECOT_LOG = SidecarContainers.UPSTREAM_RUN_DIR + "/logs/dovecot.log";
    private static final String POSTFIX_LOG = SidecarContainers.UPSTREAM_RUN_DIR + "/logs/postfix.log";

    private static Network network;
    private static GenericContainer<?> upstream;
    private static GenericContainer<?> proxy;
    private static Path proxyCert;

    /** 144 random bits, as the proxy generates them: well above the 128 bits a local password must have. */
    private static String randomPassword() {
        byte[] bits = new byte[18];
        new SecureRandom().nextBytes(bits);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bits);
    }

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        SidecarContainers.requireEngine();
        Tool openssl = Tool.require("openssl");
        network = Network.newNetwork();
        upstream = SidecarContainers.upstream(network);
        ImageFromDockerfile image = SidecarContainers.proxyImage();
        // The provider's image builds and starts while the proxy's image builds.
        CompletableFuture<Void> upstreamUp = CompletableFuture.runAsync(upstream::start);
        image.get();
        upstreamUp.join();
        byte[] ca = upstream.copyFileFromContainer(SidecarContainers.UPSTREAM_RUN_DIR + "/ca/ca.crt",
                InputStream::readAllBytes);
        // The certificate clients see, as the README has the user make it, for the address the tests connect to.
        String host = DockerClientFactory.instance().dockerHostIpAddress();
        proxyCert = tmp.resolve("tls-cert.pem");
        Path proxyKey = tmp.resolve("tls-key.pem");
        Tool.Result made = openssl.run(tmp, Duration.ofSeconds(60), List.of("req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=mailproxy",
                "-addext", "subjectAltName=DNS:mailproxy,DNS:localhost,IP:127.0.0.1,"
                        + (host.matches("[0-9.]+") ? "IP:" : "DNS:") + host,
                "-keyout", proxyKey.toString(), "-out", proxyCert.toString()));
        assertThat(made.exit()).as(made.describe()).isZero();
        proxy = new GenericContainer<>(image)
                .withNetwork(network)
                .withExposedPorts(SidecarContainers.IMAP, SidecarContainers.SMTP, SidecarContainers.HTTP)
                .withEnv("MAILPROXY_EMAIL", EMAIL)
                .withEnv("MAILPROXY_IMAP_UPSTREAM", "imaps://" + SidecarContainers.UPSTREAM_ALIAS + ":993")
                .withEnv("MAILPROXY_SMTP_UPSTREAM", "smtps://" + SidecarContainers.UPSTREAM_ALIAS + ":465")
                .withEnv("MAILPROXY_TRUSTED_CA_FILE", "/etc/mailproxy/upstream-ca.pem")
                .withCopyToContainer(Transferable.of(ca, 0644), "/etc/mailproxy/upstream-ca.pem")
                // As Docker mounts secrets: root's files (the entrypoint hands copies to the daemon's user).
                .withCopyToContainer(secret(PASSPHRASE), "/run/secrets/mailproxy-key-passphrase")
                .withCopyToContainer(secret(PROVIDER_PASSWORD), "/run/secrets/mailproxy-provider-password")
                .withCopyToContainer(secret(LOCAL_PASSWORD), "/run/secrets/mailproxy-local-password")
                .withCopyToContainer(Transferable.of(Files.readAllBytes(proxyCert), 0400), "/run/secrets/mailproxy-tls-cert")
                .withCopyToContainer(Transferable.of(Files.readAllBytes(proxyKey), 0400), "/run/secrets/mailproxy-tls-key")
                .withLogConsumer(new Slf4jLogConsumer(LoggerFactory.getLogger("sidecar")))
                .waitingFor(Wait.forLogMessage(".*mailproxy ready.*", 1).withStartupTimeout(Duration.ofMinutes(3)));
        proxy.start();
    }

    private static Transferable secret(String value) {
        return Transferable.of((value + "\n").getBytes(StandardCharsets.UTF_8), 0400);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.stop();
        }
        if (upstream != null) {
            upstream.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    /** An Angus Mail session for the proxy's published ports, with STARTTLS and the proxy's certificate trusted. */
    private static Session session() throws Exception {
        Properties p = new Properties();
        for (String proto : new String[]{"imap", "smtp"}) {
            String k = "mail." + proto + ".";
            p.put(k + "host", SidecarContainers.clientHost(proxy));
            p.put(k + "starttls.enable", "true");
            p.put(k + "starttls.required", "true");
            p.put(k + "ssl.socketFactory", AngusMailE2eTest.trusting(proxyCert));
            p.put(k + "ssl.checkserveridentity", "true");
            p.put(k + "connectiontimeout", "20000");
            p.put(k + "timeout", "60000");
        }
        p.put("mail.imap.port", Integer.toString(proxy.getMappedPort(SidecarContainers.IMAP)));
        p.put("mail.smtp.port", Integer.toString(proxy.getMappedPort(SidecarContainers.SMTP)));
        p.put("mail.smtp.auth", "true");
        p.put("mail.smtp.localhost", "app.example.test");
        return Session.getInstance(p);
    }

    private static MimeMessage message(Session session, String marker, String body) throws Exception {
        MimeMessage m = new MimeMessage(session) {
            @Override
            protected void updateMessageID() throws jakarta.mail.MessagingException {
                setHeader("Message-ID", "<" + marker + "@example.test>");
            }
        };
        m.setFrom(new InternetAddress(EMAIL));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress(EMAIL));
        m.setSubject("sidecar " + marker, "UTF-8");
        m.setText(body, "UTF-8");
        m.saveChanges();
        return m;
    }

    /** Dovecot's copy of the message with this Message-ID, once Postfix delivered it. */
    private static String awaitStored(String marker) {
        String maildir = SidecarContainers.UPSTREAM_RUN_DIR + "/mail/" + EMAIL + "/Maildir";
        String script = "f=$(grep -rlF '<" + marker + "@example.test>' " + maildir + "/new " + maildir + "/cur"
                + " 2>/dev/null | head -n 1); [ -z \"$f\" ] || cat \"$f\"";
        return await("delivery of " + marker).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> SidecarContainers.bash(upstream, script), s -> !s.isEmpty());
    }

    private static int countLines(String file, String pattern) {
        return Integer.parseInt(SidecarContainers.bash(upstream,
                "grep -cE '" + pattern + "' " + file + " || true").trim());
    }

    @Test
    @Order(1)
    void sendsAndReadsBackAnEncryptedMessageThroughTheContainer() throws Exception {
        String marker = "sidecar-" + UUID.randomUUID();
        String body = "Only the two ends read this: " + marker + " Grüße\n";
        Session session = session();
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect(EMAIL, LOCAL_PASSWORD);
            MimeMessage m = message(session, marker, body);
            transport.sendMessage(m, m.getAllRecipients());
        }

        String stored = awaitStored(marker);
        assertThat(stored).as("what the provider stores").contains("multipart/encrypted")
                .contains("application/pgp-encrypted").contains("-----BEGIN PGP MESSAGE-----")
                .doesNotContain(marker + " Grüße").doesNotContain("Only the two ends read this");

        try (Store store = session.getStore("imap")) {
            store.connect(EMAIL, LOCAL_PASSWORD);
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                Message[] found = inbox.search(new MessageIDTerm("<" + marker + "@example.test>"));
                assertThat(found).hasSize(1);
                assertThat(found[0].getSubject()).isEqualTo("sidecar " + marker);
                assertThat(found[0].isMimeType("text/plain")).as("the client reads the plaintext").isTrue();
                assertThat(found[0].getContent().toString().replace("\r\n", "\n")).isEqualTo(body);
            } finally {
                inbox.close(false);
            }
        }
    }

    @Test
    @Order(2)
    void aWrongLocalPasswordIsRefusedBeforeAnythingReachesTheProvider() throws Exception {
        int logins = countLines(DOVECOT_LOG, "Login: user=<");
        int failures = countLines(DOVECOT_LOG, "auth failed|Aborted login") + countLines(POSTFIX_LOG, "authentication failed|sasl_username");
        Session session = session();
        try (Transport transport = session.getTransport("smtp")) {
            assertThatThrownBy(() -> transport.connect(EMAIL, PROVIDER_PASSWORD))
                    .as("the provider password is not the local password").isInstanceOf(AuthenticationFailedException.class);
        }
        try (Store store = session.getStore("imap")) {
            assertThatThrownBy(() -> store.connect(EMAIL, LOCAL_PASSWORD + "x"))
                    .isInstanceOf(AuthenticationFailedException.class);
        }
        // A good login afterwards: once the provider logged it, it would have logged the refused ones before it.
        try (Store store = session.getStore("imap")) {
            store.connect(EMAIL, LOCAL_PASSWORD);
        }
        await("the provider logs the good login").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> countLines(DOVECOT_LOG, "Login: user=<"), n -> n > logins);
        assertThat(countLines(DOVECOT_LOG, "Login: user=<")).as("provider logins").isEqualTo(logins + 1);
        assertThat(countLines(DOVECOT_LOG, "auth failed|Aborted login")
                + countLines(POSTFIX_LOG, "authentication failed|sasl_username"))
                .as("failed logins at the provider").isEqualTo(failures);
    }

    @Test
    @Order(3)
    void theDaemonRunsAsTheUnprivilegedUserAsPidOne() {
        String status = SidecarContainers.bash(proxy, "cat /proc/1/status");
        assertThat(status).containsPattern("(?m)^Name:\\s+java$").containsPattern("(?m)^Uid:\\s+10001\\s+10001\\s+10001\\s+10001$")
                .containsPattern("(?m)^Gid:\\s+10001\\s+10001\\s+10001\\s+10001$")
                .containsPattern("(?m)^CapEff:\\s+0+$").containsPattern("(?m)^NoNewPrivs:\\s+1$");
        assertThat(SidecarContainers.bash(proxy, "stat -c '%U %a' /var/lib/mailproxy /run/mailproxy "
                + "/run/mailproxy/mailproxy-local-password").trim().split("\n"))
                .containsExactly("mailproxy 700", "mailproxy 700", "mailproxy 400");
        assertThat(proxy.getLogs()).as("the container's log")
                .doesNotContain(LOCAL_PASSWORD).doesNotContain(PROVIDER_PASSWORD).doesNotContain(PASSPHRASE);
        // Secrets travel as file names only: neither the daemon's command line nor its environment holds one.
        String processes = SidecarContainers.bashAs(proxy, "mailproxy",
                "cat /proc/1/cmdline /proc/1/environ | tr '\\0' '\\n'");
        assertThat(processes).contains("MAILPROXY_LOCAL_PASSWORD_FILE=/run/mailproxy/mailproxy-local-password")
                .doesNotContain(LOCAL_PASSWORD).doesNotContain(PROVIDER_PASSWORD).doesNotContain(PASSPHRASE);
    }

    @Test
    @Order(4)
    void aContainerWithoutTheAccountsAddressSaysWhichSettingIsMissing() throws Exception {
        DockerClient docker = DockerClientFactory.instance().client();
        String id = docker.createContainerCmd(proxy.getDockerImageName())
                .withEnv("MAILPROXY_IMAP_UPSTREAM=imaps://" + SidecarContainers.UPSTREAM_ALIAS + ":993")
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            int status = docker.waitContainerCmd(id).start().awaitStatusCode(60, TimeUnit.SECONDS);
            assertThat(status).isEqualTo(2);
            assertThat(LogUtils.getOutput(docker, id))
                    .contains("MAILPROXY_EMAIL is not set (see the README's Docker sidecar section)");
        } finally {
            docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        }
    }

    @Test
    @Order(5)
    void healthAnswersHealthyAndTheImageChecksIt() throws Exception {
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                        + SidecarContainers.clientHost(proxy) + ":" + proxy.getMappedPort(SidecarContainers.HTTP) + "/health"))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
        assertThat(health.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("json"));

        DockerClient docker = DockerClientFactory.instance().client();
        // From the container's configuration, which it takes from the image (podman's Docker API leaves it out of
        // the image's).
        HealthCheck check = docker.inspectContainerCmd(proxy.getContainerId()).exec().getConfig().getHealthcheck();
        assertThat(check).as("the image's HEALTHCHECK").isNotNull();
        assertThat(check.getTest()).containsExactly("CMD", "/usr/local/bin/healthcheck.sh");
        // What the engine runs on its schedule, run now.
        assertThat(proxy.execInContainer("/usr/local/bin/healthcheck.sh").getExitCode()).isZero();
    }

    @Test
    @Order(6)
    void stoppingTheContainerDrainsAnSmtpTransactionInFlight() throws Exception {
        String marker = "drain-" + UUID.randomUUID();
        CountDownLatch inData = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Session session = session();
        MimeMessage m = message(session, marker, "");
        m.setDataHandler(new DataHandler(new HalfThenWait(inData, release)));
        // Named now, so that saving the changes does not read the body to choose an encoding.
        m.setHeader("Content-Transfer-Encoding", "7bit");
        m.saveChanges();
        CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
            try (Transport transport = session.getTransport("smtp")) {
                transport.connect(EMAIL, LOCAL_PASSWORD);
                transport.sendMessage(m, m.getAllRecipients());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(inData.await(60, TimeUnit.SECONDS)).as("the client is in the middle of DATA").isTrue();

        DockerClient docker = DockerClientFactory.instance().client();
        String id = proxy.getContainerId();
        CompletableFuture<Void> stopped = CompletableFuture.runAsync(
                () -> docker.stopContainerCmd(id).withTimeout(60).exec());
        await("the daemon got SIGTERM").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> proxy.getLogs().contains("mailproxy stopping"));
        release.countDown();
        send.get(60, TimeUnit.SECONDS);
        stopped.get(90, TimeUnit.SECONDS);

        InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec().getState();
        assertThat(state.getExitCodeLong()).as("exit status after SIGTERM").isIn(0L, 143L);
        assertThat(proxy.getLogs()).contains("mailproxy stopped");
        assertThat(awaitStored(marker)).contains("multipart/encrypted");
    }

    /** A body that writes half of itself, says so, and writes the rest once released: a client mid-DATA. */
    private static final class HalfThenWait implements DataSource {
        private final CountDownLatch inData;
        private final CountDownLatch release;

        HalfThenWait(CountDownLatch inData, CountDownLatch release) {
            this.inData = inData;
            this.release = release;
        }

        @Override
        public InputStream getInputStream() {
            byte[] half = "first half of a message in flight\n".repeat(2000).getBytes(StandardCharsets.US_ASCII);
            byte[] rest = "second half, sent after SIGTERM\n".getBytes(StandardCharsets.US_ASCII);
            return new InputStream() {
                private int pos;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (pos == half.length) {
                        inData.countDown();
                        try {
                            release.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IOException("interrupted", e);
                        }
                    }
                    int total = half.length + rest.length;
                    if (pos >= total) {
                        return -1;
                    }
                    int n = Math.min(len, (pos < half.length ? half.length : total) - pos);
                    System.arraycopy(pos < half.length ? half : rest, pos < half.length ? pos : pos - half.length,
                            b, off, n);
                    pos += n;
                    return n;
                }
            };
        }

        @Override
        public OutputStream getOutputStream() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getContentType() {
            return "text/plain; charset=us-ascii";
        }

        @Override
        public String getName() {
            return "in-flight";
        }
    }
}
