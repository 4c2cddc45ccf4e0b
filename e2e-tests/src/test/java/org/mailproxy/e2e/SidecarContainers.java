package org.mailproxy.e2e;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The containers of the Docker sidecar tests: the image {@code docker/Dockerfile} builds (from the jar the reactor
 * packaged into proxy-app/target) and the test provider of {@code docker/test-upstream} on a network of their own,
 * where the proxy reaches the provider by the name {@value #UPSTREAM_ALIAS}, as a compose service would.
 *
 * <p>Both images are built on {@code localhost/debian:bookworm} when the engine has it (machines without registry
 * access make it; see scripts/test), otherwise on {@code debian:bookworm-slim}. The engine's layer cache makes every
 * build after the first one quick.
 */
final class SidecarContainers {

    static final String UPSTREAM_ALIAS = "upstream";
    static final String UPSTREAM_RUN_DIR = "/srv/teststack";
    static final int IMAP = 1143;
    static final int SMTP = 1025;
    static final int HTTP = 9464;
    static final String LOCAL_BASE = "localhost/debian:bookworm";

    private SidecarContainers() {
    }

    /** Aborts the calling test (a skip, with the reason) where no container engine is reachable. */
    static void requireEngine() {
        boolean available;
        try {
            available = DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            available = false;
        }
        Assumptions.assumeTrue(available, "no Docker-compatible container engine reachable (DOCKER_HOST="
                + System.getenv().getOrDefault("DOCKER_HOST", "unset") + ")");
    }

    static String baseImage() {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(LOCAL_BASE).exec();
            return LOCAL_BASE;
        } catch (RuntimeException e) {
            return "debian:bookworm-slim";
        }
    }

    /** The checkout's root: the directory above e2e-tests that holds docker/Dockerfile. */
    static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docker/Dockerfile"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("docker/Dockerfile not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /**
     * The image of docker/Dockerfile. The build context holds exactly what its .dockerignore lets through from the
     * repository root: the packaged jar, its libraries and docker/sidecar.
     */
    static ImageFromDockerfile proxyImage() {
        Path root = repositoryRoot();
        Path jar = root.resolve("proxy-app/target/mailproxy.jar");
        Path lib = root.resolve("proxy-app/target/lib");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException(jar + " or " + lib + " is missing: package proxy-app first "
                    + "(mvn -pl e2e-tests -am verify does)");
        }
        return new ImageFromDockerfile("localhost/mailproxy-sidecar-test", false)
                .withFileFromPath("docker/Dockerfile", root.resolve("docker/Dockerfile"))
                .withFileFromPath("docker/sidecar", root.resolve("docker/sidecar"))
                .withFileFromPath("proxy-app/target/mailproxy.jar", jar)
                .withFileFromPath("proxy-app/target/lib", lib)
                .withDockerfilePath("docker/Dockerfile")
                .withBuildArg("BASE", baseImage());
    }

    /**
     * The test provider (Debian's Dovecot and Postfix) on {@code network} as {@value #UPSTREAM_ALIAS}; its server
     * certificate also names that host, as the proxy checks it.
     */
    static GenericContainer<?> upstream(Network network) {
        return new GenericContainer<>(upstreamImage())
                .withNetwork(network)
                .withNetworkAliases(UPSTREAM_ALIAS)
                .withEnv("TESTSTACK_CERT_NAMES", "DNS:" + UPSTREAM_ALIAS)
                .waitingFor(Wait.forLogMessage(".*teststack: ready.*", 1).withStartupTimeout(Duration.ofMinutes(10)));
    }

    /**
     * Where this machine reaches the containers' published ports. With the engine on a local socket that is
     * localhost: Testcontainers would name the engine's bridge gateway when it believes it runs in a container
     * itself, and that bridge exists only while some container uses the engine's default network.
     */
    static String clientHost(GenericContainer<?> container) {
        String dockerHost = System.getenv().getOrDefault("DOCKER_HOST", "unix://");
        return dockerHost.startsWith("unix://") ? "localhost" : container.getHost();
    }

    /** The image of docker/test-upstream, as test-support's container stack builds it (so the two share it). */
    static ImageFromDockerfile upstreamImage() {
        return new ImageFromDockerfile("localhost/mailproxy-test-upstream", false)
                .withFileFromClasspath("Dockerfile", "org/mailproxy/testing/docker/Dockerfile")
                .withFileFromClasspath("scripts/teststack/teststack.sh", "org/mailproxy/testing/teststack/teststack.sh")
                .withBuildArg("BASE", baseImage());
    }

    /** Runs {@code bash -c script} in the container and returns its standard output; fails on a non-zero exit. */
    static String bash(GenericContainer<?> container, String script) {
        return bashAs(container, "root", script);
    }

    /** {@link #bash} as {@code user}, with pipefail. */
    static String bashAs(GenericContainer<?> container, String user, String script) {
        try {
            ExecResult r = container.execInContainerWithUser(StandardCharsets.UTF_8, user, "bash", "-o", "pipefail", "-c", script);
            if (r.getExitCode() != 0) {
                throw new IllegalStateException("`" + script + "` exited " + r.getExitCode() + ": " + r.getStderr());
            }
            return r.getStdout();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
