package org.mailproxy.e2e;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mailproxy as a system service under a real systemd: a Debian container with systemd as PID 1 (podman's systemd
 * mode, which the engine chooses for {@code /sbin/init}), the built proxy-app (mailproxy.jar and lib/) copied in, and
 * {@code mailproxy install-service} run as an administrator would. Dovecot in the same container is the provider.
 *
 * <p>The container is privileged: systemd needs it to apply the unit's sandbox for real (without CAP_SYS_ADMIN it
 * silently skips the mount namespace, and PrivateUsers= fails to set up its user namespace), and the point here is
 * that the JVM starts under that sandbox. Needs proxy-app packaged first ({@code mvn verify} does it before this
 * module's tests; alone: {@code mvn -pl proxy-app -am package -DskipTests}); skipped, with the reason, without a
 * container engine or the jar.
 */
@Tag("container")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SystemdServiceE2eTest {

    private static final Logger LOG = LoggerFactory.getLogger(SystemdServiceE2eTest.class);
    private static final String RESOURCES = "org/mailproxy/e2e/systemd/";
    private static final String LOCAL_BASE = "localhost/debian:bookworm";
    private static final String EMAIL = "user1@example.test";
    private static final String PASSWORD = "secret-one";
    private static final String PASSPHRASE = "correct horse battery staple";
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for mailproxy.service: (\\d+\\.\\d+)");

    private GenericContainer<?> container;

    @BeforeAll
    void startSystemd() throws Exception {
        Path target = Path.of("").toAbsolutePath().getParent().resolve("proxy-app/target");
        Path jar = target.resolve("mailproxy.jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar) && Files.isDirectory(target.resolve("lib")),
                jar + " is missing: package proxy-app first (mvn -pl proxy-app -am package -DskipTests)");
        Assumptions.assumeTrue(engineAvailable(), "no Docker-compatible container engine reachable");
        container = new GenericContainer<>(image())
                .withPrivilegedMode(true)
                .withCopyFileToContainer(MountableFile.forHostPath(jar, 0644), "/srv/dist/mailproxy.jar")
                .withCopyFileToContainer(MountableFile.forHostPath(target.resolve("lib")), "/srv/dist/lib")
                .waitingFor(Wait.forSuccessfulCommand("systemctl is-system-running | grep -Eq '^(running|degraded)$'")
                        .withStartupTimeout(Duration.ofMinutes(10)));
        container.start();
        // systemd makes / a shared mount at boot, except in a container, where it leaves the engine's choice
        // (private here). LoadCredential= needs it shared: the credentials are mounted in a child namespace and
        // moved into place, which must propagate back. A host running systemd has this already.
        sh("mount --make-rshared /");
    }

    @AfterAll
    void stop() {
        if (container != null) {
            container.stop();
        }
    }

    /**
     * The test image, built once per content: its tag is a digest of the Dockerfile, the Dovecot configuration and
     * the base, so a run after an unchanged build starts at once (the engine's layer cache is not used through its
     * Docker API here), and a changed file builds anew.
     */
    static DockerImageName image() throws Exception {
        String base = baseImage();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (String file : List.of("Dockerfile", "dovecot.conf")) {
            try (InputStream in = SystemdServiceE2eTest.class.getClassLoader().getResourceAsStream(RESOURCES + file)) {
                sha.update(in.readAllBytes());
            }
        }
        sha.update(base.getBytes(StandardCharsets.UTF_8));
        String name = "localhost/mailproxy-test-systemd:" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        try {
            DockerClientFactory.instance().client().inspectImageCmd(name).exec();
        } catch (RuntimeException missing) {
            long started = System.nanoTime();
            new ImageFromDockerfile(name, false)
                    .withFileFromClasspath("Dockerfile", RESOURCES + "Dockerfile")
                    .withFileFromClasspath("dovecot.conf", RESOURCES + "dovecot.conf")
                    .withBuildArg("BASE", base)
                    .get();
            LOG.info("built {} in {} s", name, (System.nanoTime() - started) / 1_000_000_000);
        }
        return DockerImageName.parse(name);
    }

    static boolean engineAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String baseImage() {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(LOCAL_BASE).exec();
            return LOCAL_BASE;
        } catch (RuntimeException e) {
            return "debian:bookworm-slim";
        }
    }

    /** Runs a shell command in the container; it must succeed. Returns its standard output. */
    private String sh(String command) throws Exception {
        ExecResult r = container.execInContainer(StandardCharsets.UTF_8, "sh", "-c", command);
        assertThat(r.getExitCode()).as("%s%nstdout: %s%nstderr: %s", command, r.getStdout(), r.getStderr()).isZero();
        return r.getStdout();
    }

    /** Runs a Python script in the container (IMAP sessions through the proxy); it must succeed. */
    private String python(String script) throws Exception {
        ExecResult r = container.execInContainer(StandardCharsets.UTF_8, "python3", "-c", PRELUDE + script);
        assertThat(r.getExitCode()).as("%s%nstdout: %s%nstderr: %s", script, r.getStdout(), r.getStderr()).isZero();
        return r.getStdout();
    }

    private static final String PRELUDE = "import imaplib, socket, time\n";

    @Test
    @Order(1)
    void installServiceStartsTheUnitAndActiveMeansThePortAnswers() throws Exception {
        String dryRun = sh("java -jar /srv/dist/mailproxy.jar install-service --dry-run");
        assertThat(dryRun).contains("write /etc/systemd/system/mailproxy.service (mode 0644)");
        sh("test ! -e /etc/systemd/system/mailproxy.service");

        // The administrator's configuration, written before installing (install-service keeps it).
        sh("mkdir -p /etc/mailproxy && cat > /etc/mailproxy/mailproxy.conf <<'EOF'\n"
                + "mailproxy {\n"
                + "  data-dir = \"/var/lib/mailproxy\"\n"
                + "  local-tls.mode = off\n"
                + "  tls.trusted-ca-file = \"/etc/dovecot/test.crt\"\n"
                + "  accounts = [ { email = \"" + EMAIL + "\", imap.upstream = \"imaps://localhost:993\",\n"
                + "    smtp.upstream = \"smtps://localhost:465\", key.passphrase-credential = \"mailproxy-passphrase\" } ]\n"
                + "}\nEOF\n"
                + "install -m 600 /dev/null /etc/mailproxy/passphrase && echo '" + PASSPHRASE + "' > /etc/mailproxy/passphrase");

        long started = System.nanoTime();
        // enable --now returns once systemd considers the unit started, which for Type=notify is READY=1; the port
        // must answer at once, without a retry.
        String install = sh("java -jar /srv/dist/mailproxy.jar install-service");
        String greeting = python("s = socket.create_connection(('127.0.0.1', 1143), timeout=10)\n"
                + "print('greeting', s.recv(200).decode().strip())");
        LOG.info("install-service until the port answered: {} ms", (System.nanoTime() - started) / 1_000_000);
        assertThat(install).contains("run systemctl enable --now mailproxy.service");
        assertThat(greeting).startsWith("greeting * OK");

        assertThat(sh("systemctl show -p Type -p ActiveState -p SubState -p User -p StatusText mailproxy").lines())
                .contains("Type=notify", "ActiveState=active", "SubState=running", "User=mailproxy",
                        "StatusText=listening: imap 127.0.0.1:1143, smtp 127.0.0.1:1025, http 127.0.0.1:9464");
        assertThat(sh("getent passwd mailproxy")).contains(":/var/lib/mailproxy:/usr/sbin/nologin");
        assertThat(sh("stat -c '%U %a' /var/lib/mailproxy").strip()).isEqualTo("mailproxy 700");
        assertThat(sh("cat /usr/local/bin/mailproxy")).contains("-jar /opt/mailproxy/mailproxy.jar");
        assertThat(sh("ps -o user:32=,comm= -p $(systemctl show -p MainPID --value mailproxy)").strip().split("\\s+"))
                .containsExactly("mailproxy", "java");

        // The daemon reported ready before systemd logged the start.
        List<String> log = sh("journalctl -u mailproxy -o cat --no-pager").lines().toList();
        int ready = indexOf(log, "mailproxy ready");
        int startedLine = indexOf(log, "Started mailproxy.service");
        assertThat(ready).isNotNegative().isLessThan(startedLine);
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }

    @Test
    @Order(2)
    void anImapSessionThroughTheServiceReachesDovecot() throws Exception {
        String out = python("c = imaplib.IMAP4('127.0.0.1', 1143)\n"
                + "print('welcome', c.welcome.decode())\n"
                + "print('capability', c.capability()[0])\n"
                + "print('login', c.login('" + EMAIL + "', '" + PASSWORD + "')[0])\n"
                + "print('select', c.select('INBOX')[0])\n"
                + "print('logout', c.logout()[0])");
        assertThat(out).contains("welcome * OK", "capability OK", "login OK", "select OK", "logout BYE");
        assertThat(sh("journalctl -u dovecot -o cat --no-pager"))
                .contains("imap-login: Login: user=<" + EMAIL + ">");
    }

    @Test
    @Order(3)
    void theKeyPassphraseArrivesAsACredential() throws Exception {
        // A key for the account, made by the service's user; the passphrase comes from a file only it can read.
        sh("d=$(mktemp -d) && echo '" + PASSPHRASE + "' > $d/pp && chmod 600 $d/pp && chown -R mailproxy $d && "
                + "runuser -u mailproxy -- /usr/local/bin/mailproxy keys --config /etc/mailproxy/mailproxy.conf "
                + "generate --email " + EMAIL + " --passphrase-file $d/pp && rm -r $d");
        sh("systemctl restart mailproxy");
        String log = sh("journalctl -u mailproxy -o cat --no-pager");
        assertThat(log).containsPattern("account " + Pattern.quote(EMAIL) + ": key [0-9A-F]+ unlocked");
        // Neither argv nor the environment holds the passphrase.
        String pid = sh("systemctl show -p MainPID --value mailproxy").strip();
        assertThat(sh("tr '\\0' '\\n' < /proc/" + pid + "/cmdline; tr '\\0' '\\n' < /proc/" + pid + "/environ"))
                .doesNotContain(PASSPHRASE).contains("CREDENTIALS_DIRECTORY=");
    }

    @Test
    @Order(4)
    void theJournalHasOneEntryPerEventWithItsPriorityAndNoSecondTimestamp() throws Exception {
        String entries = sh("journalctl -u mailproxy -o json --no-pager | python3 -c '"
                + "import sys, json\n"
                + "for j in map(json.loads, sys.stdin):\n"
                + "    if j.get(\"SYSLOG_IDENTIFIER\") == \"mailproxy\":\n"
                + "        print(j[\"PRIORITY\"] + \"|\" + json.dumps(j[\"MESSAGE\"]))'");
        List<String> lines = entries.lines().toList();
        assertThat(lines).isNotEmpty();
        for (String l : lines) {
            String priority = l.substring(0, l.indexOf('|'));
            String message = l.substring(l.indexOf('|') + 1);
            // One event per entry: no embedded line break, no leading date, and the priority of its level.
            assertThat(message).doesNotContain("\\n").doesNotMatch("\"\\d{4}-\\d\\d-\\d\\dT.*");
            if (!message.matches("\"(ERROR|WARN |INFO |DEBUG|TRACE) \\[.*")) {
                // Not a log event: the one line a failing command prints itself, at err priority.
                assertThat(priority).as(l).isEqualTo("3");
                continue;
            }
            String level = message.substring(1, 6).strip();
            assertThat(priority).as(l).isEqualTo(switch (level) {
                case "ERROR" -> "3";
                case "WARN" -> "4";
                case "INFO" -> "6";
                default -> "7";
            });
        }
        // Two starts so far (install, restart), each logged once.
        assertThat(lines).filteredOn(l -> l.contains("mailproxy ready")).hasSize(2);
    }

    @Test
    @Order(5)
    void theSandboxIsReportedBySystemdAnalyze() throws Exception {
        String report = sh("systemd-analyze security --no-pager mailproxy");
        Matcher m = EXPOSURE.matcher(report);
        assertThat(m.find()).as(report).isTrue();
        double exposure = Double.parseDouble(m.group(1));
        LOG.info("systemd-analyze security mailproxy: overall exposure {}", exposure);
        System.out.println("systemd-analyze security mailproxy: overall exposure " + exposure);
        assertThat(exposure).isLessThanOrEqualTo(1.5);
        // The sandbox is really in force: the service has its own mount namespace and sees / read-only.
        String pid = sh("systemctl show -p MainPID --value mailproxy").strip();
        assertThat(sh("readlink /proc/1/ns/mnt")).isNotEqualTo(sh("readlink /proc/" + pid + "/ns/mnt"));
        assertThat(sh("nsenter -t " + pid + " -m sh -c 'touch /opt/x 2>&1 || true'")).contains("Read-only file system");
    }

    @Test
    @Order(6)
    void stopDrainsAndEndsCleanly() throws Exception {
        // A client with a selected mailbox stays connected while the service stops.
        String held = PRELUDE + "c = imaplib.IMAP4('127.0.0.1', 1143)\n"
                + "c.login('" + EMAIL + "', '" + PASSWORD + "'); c.select('INBOX')\n"
                + "print('held', flush=True)\n"
                + "time.sleep(120)";
        ExecResult bg = container.execInContainer("sh", "-c", "nohup python3 -c \"$0\" > /tmp/held.log 2>&1 &", held);
        assertThat(bg.getExitCode()).isZero();
        sh("for i in $(seq 1 100); do grep -q held /tmp/held.log && exit 0; sleep 0.1; done; cat /tmp/held.log; exit 1");

        long started = System.nanoTime();
        sh("systemctl stop mailproxy");
        LOG.info("systemctl stop: {} ms", (System.nanoTime() - started) / 1_000_000);
        assertThat(sh("systemctl show -p ActiveState -p Result -p ExecMainStatus mailproxy").lines())
                .contains("ActiveState=inactive", "Result=success", "ExecMainStatus=143");
        String log = sh("journalctl -u mailproxy -o cat --no-pager");
        assertThat(log).contains("mailproxy stopping: 1 imap and 0 smtp session(s) open", "mailproxy stopped",
                "mailproxy.service: Deactivated successfully.");
    }
}
