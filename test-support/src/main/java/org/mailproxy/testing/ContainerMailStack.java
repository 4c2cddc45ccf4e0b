package org.mailproxy.testing;

import com.github.dockerjava.api.exception.NotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.images.builder.Transferable;

/**
 * The same test provider as {@link MailStack}, in a container built from {@code docker/test-upstream/Dockerfile}
 * (Debian's Dovecot and Postfix configured by the same script), through Testcontainers. One container per JVM,
 * stopped by a shutdown hook. Tests using it carry {@code @Tag("container")} and call {@link #require()}, which
 * skips them with the reason where no container engine is reachable.
 *
 * <p>The image is built on a Debian base: {@code localhost/debian:bookworm} when the engine has that image (machines
 * without registry access make it), otherwise {@code debian:bookworm-slim}; the system property
 * {@code mailstack.container.base} or the environment variable {@code TESTSTACK_BASE_IMAGE} override it. The
 * first build installs the packages from Debian's mirrors (about a minute); later builds come from the cache.
 *
 * <p>Unlike the loopback stack, clients reach the container from another address, so Dovecot announces
 * LOGINDISABLED before STARTTLS there. {@link StoredMessage#file()} names a path inside the container.
 */
public final class ContainerMailStack implements UpstreamStack {

    private static final Logger LOG = LoggerFactory.getLogger(ContainerMailStack.class);
    private static final String RESOURCES = "org/mailproxy/testing/";
    private static final String SCRIPT = "/usr/local/bin/teststack.sh";
    private static final String RUN_DIR = "/srv/teststack";
    private static final String LOCAL_BASE = "localhost/debian:bookworm";
    private static final String PUBLIC_BASE = "debian:bookworm-slim";
    private static final int IMAPS = 993;
    private static final int IMAP = 143;
    private static final int SUBMISSION = 587;
    private static final int SUBMISSIONS = 465;
    private static final AtomicLong DELIVERIES = new AtomicLong();

    private static ContainerMailStack instance;
    private static RuntimeException failure;

    private final GenericContainer<?> container;
    private final Path caCertFile;

    private ContainerMailStack(GenericContainer<?> container, Path caCertFile) {
        this.container = container;
        this.caCertFile = caCertFile;
    }

    /**
     * The running container stack, started on first use.
     *
     * @throws MailStackUnavailableException when no container engine is reachable
     */
    public static synchronized ContainerMailStack get() {
        if (instance != null) {
            return instance;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            instance = start();
            return instance;
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    /** The running container stack, or aborts the calling test with the reason when no engine is reachable. */
    public static ContainerMailStack require() {
        try {
            return get();
        } catch (MailStackUnavailableException e) {
            Assumptions.abort("container mail stack unavailable: " + e.getMessage());
            throw e;
        }
    }

    private static ContainerMailStack start() {
        if (!engineAvailable()) {
            throw new MailStackUnavailableException("no Docker-compatible container engine reachable (DOCKER_HOST="
                    + System.getenv().getOrDefault("DOCKER_HOST", "unset") + ")");
        }
        long started = System.nanoTime();
        String base = baseImage();
        ImageFromDockerfile image = new ImageFromDockerfile("localhost/mailproxy-test-upstream", false)
                .withFileFromClasspath("Dockerfile", RESOURCES + "docker/Dockerfile")
                .withFileFromClasspath("scripts/teststack/teststack.sh", RESOURCES + "teststack/teststack.sh")
                .withBuildArg("BASE", base);
        GenericContainer<?> container = new GenericContainer<>(image)
                .withExposedPorts(IMAPS, IMAP, SUBMISSION, SUBMISSIONS)
                .withEnv("TESTSTACK_CERT_NAMES", certNames(DockerClientFactory.instance().dockerHostIpAddress()))
                .waitingFor(Wait.forLogMessage(".*teststack: ready.*", 1)
                        .withStartupTimeout(Duration.ofMinutes(10)));
        try {
            container.start();
        } catch (RuntimeException e) {
            container.stop();
            throw new IllegalStateException("the test mail stack container did not start (base " + base + ")", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "container-mailstack-stop"));
        try {
            Path ca = Files.createTempFile("mailstack-container-ca", ".crt");
            ca.toFile().deleteOnExit();
            byte[] pem = container.copyFileFromContainer(RUN_DIR + "/ca/ca.crt", in -> in.readAllBytes());
            Files.write(ca, pem);
            ContainerMailStack stack = new ContainerMailStack(container, ca);
            LOG.info("test mail stack container up in {} ms: imaps={} imap={} submission={} submissions={} base={}",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), stack.imapsPort(),
                    stack.imapStarttlsPort(), stack.submissionPort(), stack.submissionsPort(), base);
            return stack;
        } catch (IOException e) {
            container.stop();
            throw new UncheckedIOException("cannot copy the test CA out of the container", e);
        }
    }

    /**
     * The server certificate must also name the address tests reach the published ports at: Testcontainers gives
     * the engine's gateway address instead of localhost when it believes it runs inside a container itself.
     */
    static String certNames(String engineHost) {
        if (engineHost == null || engineHost.isBlank() || engineHost.equals("localhost")
                || engineHost.equals("127.0.0.1")) {
            return "";
        }
        boolean ip = engineHost.matches("[0-9.]+") || engineHost.contains(":");
        return (ip ? "IP:" : "DNS:") + engineHost;
    }

    private static boolean engineAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String baseImage() {
        String configured = System.getProperty("mailstack.container.base", System.getenv("TESTSTACK_BASE_IMAGE"));
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        try {
            DockerClientFactory.instance().client().inspectImageCmd(LOCAL_BASE).exec();
            return LOCAL_BASE;
        } catch (RuntimeException e) {
            return PUBLIC_BASE;
        }
    }

    /** The engine's address for published ports; {@code localhost} for a local engine, as the certificate needs. */
    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int imapsPort() {
        return container.getMappedPort(IMAPS);
    }

    @Override
    public int imapStarttlsPort() {
        return container.getMappedPort(IMAP);
    }

    @Override
    public int submissionPort() {
        return container.getMappedPort(SUBMISSION);
    }

    @Override
    public int submissionsPort() {
        return container.getMappedPort(SUBMISSIONS);
    }

    @Override
    public Path caCertFile() {
        return caCertFile;
    }

    @Override
    public List<MailUser> users() {
        return MailStack.USERS;
    }

    @Override
    public void deliver(MailUser user, String folder, byte[] rfc822) {
        String file = "/tmp/deliver-" + DELIVERIES.incrementAndGet() + ".eml";
        container.copyFileToContainer(Transferable.of(rfc822), file);
        try {
            script("deliver", user(user.email()).email(), file, folder);
        } finally {
            exec("rm", "-f", file);
        }
    }

    @Override
    public List<StoredMessage> messages(MailUser user, String folder) {
        String dir = RUN_DIR + "/mail/" + user(user.email()).email().toLowerCase() + "/Maildir";
        String suffix = Maildir.folderSuffix(folder);
        if (!suffix.isEmpty()) {
            dir = dir + "/" + suffix;
        }
        return read(dir);
    }

    /**
     * Copies the folder out of the container as one tar archive (one engine call, not one per file) and keeps its
     * UID list and the files directly in {@code new/} and {@code cur/}. A file Dovecot moves from new/ to cur/
     * while the archive is made may show up in both; it is counted once.
     */
    private List<StoredMessage> read(String dir) {
        Map<String, StoredMessage> byBase = new LinkedHashMap<>();
        Map<String, Long> uids = new HashMap<>();
        List<Object[]> files = new ArrayList<>();
        try (InputStream archive = container.getDockerClient()
                .copyArchiveFromContainerCmd(container.getContainerId(), dir).exec();
             TarArchiveInputStream tar = new TarArchiveInputStream(archive)) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (!entry.isFile()) {
                    continue;
                }
                String[] parts = entry.getName().split("/");
                if (parts.length == 2 && parts[1].equals("dovecot-uidlist")) {
                    uids = Maildir.parseUidList(List.of(
                            new String(tar.readAllBytes(), StandardCharsets.UTF_8).split("\n")));
                } else if (parts.length == 3 && (parts[1].equals("new") || parts[1].equals("cur"))) {
                    files.add(new Object[] {dir + "/" + parts[1] + "/" + parts[2], tar.readAllBytes()});
                }
            }
        } catch (NotFoundException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + dir + " out of the container", e);
        }
        for (Object[] file : files) {
            StoredMessage message = Maildir.message(Path.of((String) file[0]), (byte[]) file[1], uids);
            String name = message.file().getFileName().toString();
            int info = name.indexOf(":2,");
            byBase.merge(info < 0 ? name : name.substring(0, info), message,
                    (a, b) -> a.file().toString().contains("/cur/") ? a : b);
        }
        return Maildir.sorted(new ArrayList<>(byBase.values()));
    }

    @Override
    public void clearMailbox(MailUser user) {
        script("clear", user(user.email()).email());
    }

    @Override
    public void stopPostfix() {
        script("stop-postfix");
    }

    @Override
    public void startPostfix() {
        script("start-postfix");
    }

    private void script(String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT, command, RUN_DIR));
        cmd.addAll(List.of(args));
        ExecResult result = exec(cmd.toArray(String[]::new));
        if (result.getExitCode() != 0) {
            throw new IllegalStateException("teststack.sh " + command + " failed in the container (exit "
                    + result.getExitCode() + "): " + result.getStdout() + result.getStderr());
        }
    }

    private ExecResult exec(String... command) {
        try {
            return container.execInContainer(StandardCharsets.UTF_8, command);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command[0] + " in the container", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return "ContainerMailStack[" + container.getContainerName() + "]";
    }
}
