package org.mailproxy.e2e;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * docker/compose.yaml as the README has a user run it, through docker-compose against the same engine as the other
 * container tests: the file validates, and {@code up} builds both images, starts the sidecar and the example
 * application, which sends a message through the proxy and reads it back in plaintext while the provider stores it
 * encrypted. The test adds only what a user would have instead: the provider (the test-upstream container, as the
 * service {@code upstream}, whose CA the proxy trusts) and secret files in a temporary directory.
 */
@Tag("container")
class ComposeSidecarE2eTest {

    private static final Duration UP_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    private Tool compose;
    private Path composeFile;

    @BeforeEach
    void requireComposeAndEngine() {
        SidecarContainers.requireEngine();
        compose = Tool.require("docker-compose");
        composeFile = SidecarContainers.repositoryRoot().resolve("docker/compose.yaml");
    }

    private static Map<String, String> settings() {
        Map<String, String> env = new HashMap<>();
        env.put("MAILPROXY_EMAIL", "alice@example.test");
        env.put("MAILPROXY_IMAP_UPSTREAM", "imaps://upstream:993");
        env.put("MAILPROXY_SMTP_UPSTREAM", "smtps://upstream:465");
        env.put("MAILPROXY_BASE_IMAGE", SidecarContainers.baseImage());
        return env;
    }

    @Test
    void theComposeFileValidatesAndNamesWhatIsMissing() {
        Tool.Result ok = compose.run(dir, COMMAND_TIMEOUT, List.of("-f", composeFile.toString(), "config", "-q"),
                null, settings());
        assertThat(ok.exit()).as(ok.describe()).isZero();

        Map<String, String> withoutAddress = settings();
        withoutAddress.remove("MAILPROXY_EMAIL");
        Tool.Result missing = compose.run(dir, COMMAND_TIMEOUT, List.of("-f", composeFile.toString(), "config", "-q"),
                null, withoutAddress);
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.stderr()).contains("set MAILPROXY_EMAIL");
    }

    @Test
    void upRunsTheApplicationThroughTheSidecarAgainstTheProvider() throws Exception {
        String upstreamImage = SidecarContainers.upstreamImage().get();
        Path secrets = Files.createDirectory(dir.resolve("secrets"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        secret(secrets.resolve("key-passphrase"), "compose key passphrase " + UUID.randomUUID());
        secret(secrets.resolve("provider-password"), "alice-secret");
        byte[] bits = new byte[18];
        new SecureRandom().nextBytes(bits);
        secret(secrets.resolve("local-password"), Base64.getEncoder().encodeToString(bits));
        Tool.Result cert = Tool.require("openssl").run(dir, COMMAND_TIMEOUT, List.of("req", "-x509", "-newkey", "ec",
                "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=mailproxy",
                "-addext", "subjectAltName=DNS:mailproxy", "-keyout", secrets.resolve("tls-key.pem").toString(),
                "-out", secrets.resolve("tls-cert.pem").toString()));
        assertThat(cert.exit()).as(cert.describe()).isZero();
        Path ca = dir.resolve("upstream-ca.pem");
        Path override = dir.resolve("provider.yaml");
        Files.writeString(override, """
                services:
                  upstream:
                    image: %s
                    environment:
                      TESTSTACK_CERT_NAMES: "DNS:upstream"
                  mailproxy:
                    environment:
                      MAILPROXY_TRUSTED_CA_FILE: /run/secrets/upstream-ca
                    secrets:
                      - upstream-ca
                secrets:
                  mailproxy-key-passphrase:
                    file: %s/key-passphrase
                  mailproxy-provider-password:
                    file: %s/provider-password
                  mailproxy-local-password:
                    file: %s/local-password
                  mailproxy-tls-cert:
                    file: %s/tls-cert.pem
                  mailproxy-tls-key:
                    file: %s/tls-key.pem
                  upstream-ca:
                    file: %s
                """.formatted(upstreamImage, secrets, secrets, secrets, secrets, secrets, ca));
        String project = "mailproxysidecar" + UUID.randomUUID().toString().substring(0, 8);
        List<String> base = List.of("-p", project, "-f", composeFile.toString(), "-f", override.toString());
        try {
            run(base, COMMAND_TIMEOUT, "up", "-d", "upstream");
            await("the provider is up").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> run(base, COMMAND_TIMEOUT, "logs", "upstream").contains("teststack: ready"));
            Files.writeString(ca, run(base, COMMAND_TIMEOUT, "exec", "-T", "upstream", "cat",
                    SidecarContainers.UPSTREAM_RUN_DIR + "/ca/ca.crt"));
            // A certificate, not a secret: the daemon's user reads it where it is mounted.
            Files.setPosixFilePermissions(ca, PosixFilePermissions.fromString("rw-r--r--"));

            List<String> up = new ArrayList<>(base);
            up.addAll(List.of("up", "--build", "--exit-code-from", "app", "mailproxy", "app"));
            Tool.Result result = compose.run(dir, UP_TIMEOUT, up, null, settings());
            String log = result.out();
            assertThat(result.exit()).as("the application's exit status; log:\n" + log).isZero();
            Matcher sent = Pattern.compile("app: sent (sidecar-app-[0-9a-f-]+)").matcher(log);
            assertThat(sent.find()).as(log).isTrue();
            String marker = sent.group(1);
            assertThat(log).contains("app: read back " + marker + " in plaintext");

            String stored = run(base, COMMAND_TIMEOUT, "exec", "-T", "upstream", "bash", "-c",
                    "grep -rlF '" + marker + "' " + SidecarContainers.UPSTREAM_RUN_DIR + "/mail | head -n 1 | xargs cat");
            assertThat(stored).as("what the provider stores").contains("multipart/encrypted")
                    .contains("-----BEGIN PGP MESSAGE-----").doesNotContain("Sent through the mailproxy sidecar");
        } finally {
            List<String> down = new ArrayList<>(base);
            down.addAll(List.of("down", "-v", "--remove-orphans"));
            compose.run(dir, COMMAND_TIMEOUT, down, null, settings());
        }
    }

    private String run(List<String> base, Duration timeout, String... args) {
        List<String> all = new ArrayList<>(base);
        all.addAll(List.of(args));
        Tool.Result r = compose.run(dir, timeout, all, null, settings());
        assertThat(r.exit()).as("docker-compose " + String.join(" ", args) + ": " + r.describe()).isZero();
        return r.out();
    }

    private static void secret(Path file, String value) throws Exception {
        Files.writeString(file, value + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }
}
