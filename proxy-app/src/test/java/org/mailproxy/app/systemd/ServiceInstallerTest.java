package org.mailproxy.app.systemd;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.app.systemd.ServiceInstaller.Installation;
import org.mailproxy.app.systemd.ServiceInstaller.Step;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** install-service's steps carried out on a file system rooted in a temporary directory, commands recorded. */
class ServiceInstallerTest {

    @TempDir
    Path tmp;

    private Path root;
    private Installation installation;
    private final List<List<String>> commands = new ArrayList<>();
    /** Exit code of {@code getent passwd mailproxy}: 2 means no such user. */
    private int getent = 2;

    @BeforeEach
    void installation() throws IOException {
        root = Files.createDirectory(tmp.resolve("root"));
        Path build = Files.createDirectories(tmp.resolve("build dir/target"));
        Files.writeString(build.resolve("mailproxy.jar"), "jar");
        Files.createDirectory(build.resolve("lib"));
        Files.writeString(build.resolve("lib/netty-common-4.2.18.Final.jar"), "netty");
        Files.writeString(build.resolve("lib/picocli-4.7.7.jar"), "picocli");
        installation = new Installation(build.resolve("mailproxy.jar"), build.resolve("lib"),
                Path.of("/usr/lib/jvm/java-17/bin/java"));
    }

    private final ServiceInstaller.Host host = new ServiceInstaller.Host() {
        @Override
        public Path path(String absolute) {
            return root.resolve(absolute.substring(1));
        }

        @Override
        public int run(List<String> command) {
            commands.add(command);
            return command.get(0).equals("getent") ? getent : 0;
        }
    };

    private void apply(List<Step> steps) throws IOException {
        for (Step s : steps) {
            s.apply(host);
        }
    }

    private String mode(String path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(host.path(path)));
    }

    @Test
    void theSystemServiceIsInstalledUnderOptWithItsUserAndConfiguration() throws IOException {
        Files.createDirectories(host.path("/opt/mailproxy/lib"));
        Files.writeString(host.path("/opt/mailproxy/lib/netty-common-4.2.17.Final.jar"), "old");

        apply(ServiceInstaller.system(installation));

        assertThat(Files.readString(host.path("/opt/mailproxy/mailproxy.jar"))).isEqualTo("jar");
        try (var s = Files.list(host.path("/opt/mailproxy/lib"))) {
            assertThat(s.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("netty-common-4.2.18.Final.jar", "picocli-4.7.7.jar");
        }
        assertThat(Files.readString(host.path("/usr/local/bin/mailproxy"))).isEqualTo("#!/bin/sh\n"
                + "# mailproxy, as installed by `mailproxy install-service`. Java options go in MAILPROXY_JAVA_OPTS.\n"
                + "java=/usr/lib/jvm/java-17/bin/java\n"
                + "[ -x \"$java\" ] || java=java\n"
                + "exec \"$java\" ${MAILPROXY_JAVA_OPTS:-} -jar /opt/mailproxy/mailproxy.jar \"$@\"\n");
        assertThat(mode("/usr/local/bin/mailproxy")).isEqualTo("rwxr-xr-x");
        assertThat(Files.readString(host.path("/etc/systemd/system/mailproxy.service")))
                .isEqualTo(ServiceInstaller.unit("mailproxy.service"));
        assertThat(mode("/etc/mailproxy")).isEqualTo("rwxr-x---");
        assertThat(Files.readString(host.path("/etc/mailproxy/mailproxy.conf")))
                .contains("data-dir = \"/var/lib/mailproxy\"", "passphrase-credential = \"mailproxy-passphrase\"");
        assertThat(mode("/etc/mailproxy/mailproxy.conf")).isEqualTo("rw-r-----");
        assertThat(Files.readString(host.path("/etc/mailproxy/passphrase"))).isEmpty();
        assertThat(mode("/etc/mailproxy/passphrase")).isEqualTo("rw-------");
        assertThat(commands).containsExactly(
                List.of("getent", "passwd", "mailproxy"),
                List.of("useradd", "--system", "--user-group", "--home-dir", "/var/lib/mailproxy", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", "mailproxy"),
                List.of("chgrp", "mailproxy", "/etc/mailproxy", "/etc/mailproxy/mailproxy.conf"),
                List.of("systemctl", "daemon-reload"),
                List.of("systemctl", "try-restart", "mailproxy.service"),
                List.of("systemctl", "enable", "--now", "mailproxy.service"));
    }

    @Test
    void anExistingUserConfigurationAndPassphraseAreKept() throws IOException {
        getent = 0;
        Files.createDirectories(host.path("/etc/mailproxy"));
        Files.writeString(host.path("/etc/mailproxy/mailproxy.conf"), "mailproxy { accounts = [] }\n");
        Files.writeString(host.path("/etc/mailproxy/passphrase"), "secret\n");

        apply(ServiceInstaller.system(installation));

        assertThat(Files.readString(host.path("/etc/mailproxy/mailproxy.conf"))).isEqualTo("mailproxy { accounts = [] }\n");
        assertThat(Files.readString(host.path("/etc/mailproxy/passphrase"))).isEqualTo("secret\n");
        assertThat(commands).noneMatch(c -> c.get(0).equals("useradd"));
    }

    @Test
    void runningFromOptItselfCopiesNothing() {
        Installation installed = new Installation(Path.of("/opt/mailproxy/mailproxy.jar"), Path.of("/opt/mailproxy/lib"),
                Path.of("/usr/bin/java"));
        assertThat(ServiceInstaller.system(installed)).noneMatch(s -> s instanceof ServiceInstaller.CopyInstallation);
    }

    @Test
    void aFailedCommandStopsTheInstallation() {
        ServiceInstaller.Host failing = new ServiceInstaller.Host() {
            @Override
            public Path path(String absolute) {
                return host.path(absolute);
            }

            @Override
            public int run(List<String> command) {
                return command.get(0).equals("useradd") ? 9 : 2;
            }
        };
        Step first = ServiceInstaller.system(installation).get(0);
        assertThatThrownBy(() -> first.apply(failing)).hasMessageContaining("useradd --system").hasMessageContaining("9");
    }

    @Test
    void theUserServiceRunsThisInstallationAndMayWriteItsDataDir() throws IOException {
        Path home = Files.createDirectories(root.resolve("home/alice"));
        List<Step> steps = ServiceInstaller.user(installation, Path.of("/home/alice"));
        apply(steps);

        String unit = Files.readString(host.path("/home/alice/.config/systemd/user/mailproxy.service"));
        // The build directory's name has a space: the argument is quoted (systemd.service(5), "Command lines").
        assertThat(unit).contains("\nExecStart=/usr/lib/jvm/java-17/bin/java -jar \"" + installation.jar()
                + "\" run --config %E/mailproxy/mailproxy.conf\n");
        assertThat(unit).contains("\nWantedBy=default.target\n", "\nReadWritePaths=%h/.local/share/mailproxy\n")
                .doesNotContain("\nUser=");
        assertThat(mode("/home/alice/.local/share/mailproxy")).isEqualTo("rwx------");
        assertThat(mode("/home/alice/.config/mailproxy/mailproxy.conf")).isEqualTo("rw-------");
        assertThat(Files.readString(home.resolve(".config/mailproxy/mailproxy.conf"))).doesNotContain("data-dir");
        assertThat(mode("/home/alice/.config/mailproxy/passphrase")).isEqualTo("rw-------");
        assertThat(commands).containsExactly(
                List.of("systemctl", "--user", "daemon-reload"),
                List.of("systemctl", "--user", "try-restart", "mailproxy.service"),
                List.of("systemctl", "--user", "enable", "--now", "mailproxy.service"));
    }

    @Test
    void execStartArgumentsAreEscaped() {
        assertThat(ServiceInstaller.execArgument("/opt/mailproxy/mailproxy.jar")).isEqualTo("/opt/mailproxy/mailproxy.jar");
        assertThat(ServiceInstaller.execArgument("/home/a/100%/m.jar")).isEqualTo("/home/a/100%%/m.jar");
        assertThat(ServiceInstaller.execArgument("/home/a/$HOME/m.jar")).isEqualTo("/home/a/$$HOME/m.jar");
        assertThat(ServiceInstaller.execArgument("/home/a b/\"q\\/m.jar")).isEqualTo("\"/home/a b/\\\"q\\\\/m.jar\"");
    }

    @Test
    void theLauncherQuotesPathsForTheShell() {
        assertThat(ServiceInstaller.launcher(Path.of("/j dk/bin/java"), Path.of("/o/it's.jar")))
                .contains("java='/j dk/bin/java'\n", "-jar '/o/it'\\''s.jar' \"$@\"\n");
    }

    @Test
    void theDescriptionsNameEveryPathAndCommand() {
        List<String> d = ServiceInstaller.system(installation).stream().map(Step::describe).toList();
        assertThat(d).contains(
                "create the system user mailproxy unless it exists: useradd --system --user-group --home-dir "
                        + "/var/lib/mailproxy --no-create-home --shell /usr/sbin/nologin mailproxy",
                "write /usr/local/bin/mailproxy (mode 0755)",
                "write /etc/mailproxy/mailproxy.conf (mode 0640) unless it exists",
                "write /etc/mailproxy/passphrase (mode 0600) unless it exists",
                "write /etc/systemd/system/mailproxy.service (mode 0644)",
                "run systemctl enable --now mailproxy.service");
    }
}
