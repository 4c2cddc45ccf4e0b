package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.MountableFile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mailproxy as a user service, as on a desktop: in the container of {@link SystemdServiceE2eTest} (systemd as PID 1,
 * Dovecot), the user alice has a lingering user manager and runs {@code mailproxy install-service --user} herself.
 * The unit must start under its sandbox in the user manager (which has no capabilities of its own), report ready
 * once the port answers, get the key passphrase as a credential, and stop cleanly.
 */
@Tag("container")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SystemdUserServiceE2eTest {

    private static final Logger LOG = LoggerFactory.getLogger(SystemdUserServiceE2eTest.class);
    private static final String EMAIL = "user1@example.test";
    private static final String PASSWORD = "secret-one";
    private static final String PASSPHRASE = "tr0ub4dor and three";
    private static final String PRELUDE = "import imaplib, socket, time\n";
    /** alice's commands: her user manager is found through XDG_RUNTIME_DIR. */
    private static final String AS_ALICE = "runuser -u alice -- env XDG_RUNTIME_DIR=/run/user/1000 ";

    private GenericContainer<?> container;

    @BeforeAll
    void startSystemd() throws Exception {
        Path target = Path.of("").toAbsolutePath().getParent().resolve("proxy-app/target");
        Path jar = target.resolve("mailproxy.jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar) && Files.isDirectory(target.resolve("lib")),
                jar + " is missing: package proxy-app first (mvn -pl proxy-app -am package -DskipTests)");
        Assumptions.assumeTrue(SystemdServiceE2eTest.engineAvailable(), "no Docker-compatible container engine reachable");
        container = new GenericContainer<>(SystemdServiceE2eTest.image())
                .withPrivilegedMode(true)
                .withCopyFileToContainer(MountableFile.forHostPath(jar, 0644), "/opt/mailproxy-dist/mailproxy.jar")
                .withCopyFileToContainer(MountableFile.forHostPath(target.resolve("lib")), "/opt/mailproxy-dist/lib")
                .waitingFor(Wait.forSuccessfulCommand("systemctl is-system-running | grep -Eq '^(running|degraded)$'")
                        .withStartupTimeout(Duration.ofMinutes(10)));
        container.start();
        // As in SystemdServiceE2eTest: LoadCredential= needs / to be a shared mount, which systemd leaves alone in
        // a container.
        sh("mount --make-rshared /");
        sh("chmod -R a+rX /opt/mailproxy-dist && useradd -m alice && loginctl enable-linger alice && "
                + "for i in $(seq 1 100); do systemctl is-active -q user@1000.service && exit 0; sleep 0.1; done; exit 1");
    }

    @AfterAll
    void stop() {
        if (container != null) {
            container.stop();
        }
    }

    private String sh(String command) throws Exception {
        ExecResult r = container.execInContainer(StandardCharsets.UTF_8, "sh", "-c", command);
        assertThat(r.getExitCode()).as("%s%nstdout: %s%nstderr: %s", command, r.getStdout(), r.getStderr()).isZero();
        return r.getStdout();
    }

    private String python(String script) throws Exception {
        ExecResult r = container.execInContainer(StandardCharsets.UTF_8, "python3", "-c", PRELUDE + script);
        assertThat(r.getExitCode()).as("%s%nstdout: %s%nstderr: %s", script, r.getStdout(), r.getStderr()).isZero();
        return r.getStdout();
    }

    @Test
    @Order(1)
    void installServiceUserStartsTheUnitInAlicesManager() throws Exception {
        sh(AS_ALICE + "sh -c 'mkdir -p ~/.config/mailproxy && chmod 700 ~/.config/mailproxy && "
                + "printf \"%s\\n\" \"mailproxy {\" \"  local-tls.mode = off\" "
                + "\"  tls.trusted-ca-file = \\\"/etc/dovecot/test.crt\\\"\" "
                + "\"  accounts = [ { email = \\\"" + EMAIL + "\\\", imap.upstream = \\\"imaps://localhost:993\\\", "
                + "smtp.upstream = \\\"smtps://localhost:465\\\", key.passphrase-credential = \\\"mailproxy-passphrase\\\" } ]\" "
                + "\"}\" > ~/.config/mailproxy/mailproxy.conf && "
                + "umask 077 && echo \"" + PASSPHRASE + "\" > ~/.config/mailproxy/passphrase'");
        sh(AS_ALICE + "java -jar /opt/mailproxy-dist/mailproxy.jar keys generate --email " + EMAIL
                + " --passphrase-file /home/alice/.config/mailproxy/passphrase");

        String install = sh(AS_ALICE + "java -jar /opt/mailproxy-dist/mailproxy.jar install-service --user");
        String greeting = python("s = socket.create_connection(('127.0.0.1', 1143), timeout=10)\n"
                + "print('greeting', s.recv(200).decode().strip())");
        assertThat(install).contains("run systemctl --user enable --now mailproxy.service");
        assertThat(greeting).startsWith("greeting * OK");

        assertThat(sh(AS_ALICE + "systemctl --user show -p Type -p ActiveState -p StatusText -p ExecMainPID mailproxy")
                .lines()).contains("Type=notify", "ActiveState=active",
                "StatusText=listening: imap 127.0.0.1:1143, smtp 127.0.0.1:1025, http 127.0.0.1:9464");
        assertThat(sh("grep ^ExecStart= /home/alice/.config/systemd/user/mailproxy.service")).isEqualTo(
                "ExecStart=/usr/lib/jvm/java-17-openjdk-amd64/bin/java -jar /opt/mailproxy-dist/mailproxy.jar run "
                        + "--config %E/mailproxy/mailproxy.conf\n");
        assertThat(sh("stat -c '%U %a' /home/alice/.local/share/mailproxy").strip()).isEqualTo("alice 700");
        assertThat(sh(AS_ALICE + "journalctl --user -u mailproxy -o cat --no-pager"))
                .containsPattern("account " + Pattern.quote(EMAIL) + ": key [0-9A-F]+ unlocked");
    }

    @Test
    @Order(2)
    void anImapLoginThroughTheUserServiceReachesDovecot() throws Exception {
        String out = python("c = imaplib.IMAP4('127.0.0.1', 1143)\n"
                + "print('login', c.login('" + EMAIL + "', '" + PASSWORD + "')[0])\n"
                + "print('select', c.select('INBOX')[0])\n"
                + "print('logout', c.logout()[0])");
        assertThat(out).contains("login OK", "select OK", "logout BYE");
    }

    @Test
    @Order(3)
    void theSandboxAppliesInTheUserManager() throws Exception {
        String report = sh(AS_ALICE + "systemd-analyze --user security --no-pager mailproxy");
        Matcher m = Pattern.compile("Overall exposure level for mailproxy.service: (\\d+\\.\\d+)").matcher(report);
        assertThat(m.find()).as(report).isTrue();
        LOG.info("systemd-analyze --user security mailproxy: overall exposure {}", m.group(1));
        System.out.println("systemd-analyze --user security mailproxy: overall exposure " + m.group(1));
        String pid = sh(AS_ALICE + "systemctl --user show -p MainPID --value mailproxy").strip();
        assertThat(sh("readlink /proc/" + pid + "/ns/user")).isNotEqualTo(sh("readlink /proc/1/ns/user"));
        assertThat(sh("nsenter -t " + pid + " -U -m --preserve-credentials sh -c 'touch /home/alice/x 2>&1 || true'"))
                .contains("Read-only file system");
        // Nothing in the journal says the user manager skipped a setting.
        assertThat(sh(AS_ALICE + "journalctl --user -u mailproxy -o cat --no-pager")).doesNotContain("ignoring");
    }

    @Test
    @Order(4)
    void stopEndsCleanly() throws Exception {
        sh(AS_ALICE + "systemctl --user stop mailproxy");
        assertThat(sh(AS_ALICE + "systemctl --user show -p ActiveState -p Result mailproxy").lines())
                .containsAll(List.of("ActiveState=inactive", "Result=success"));
        assertThat(sh(AS_ALICE + "journalctl --user -u mailproxy -o cat --no-pager")).contains("mailproxy stopped");
    }
}
