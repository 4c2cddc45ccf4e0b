package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mailproxy install-service} from the command line: --dry-run prints the steps and changes nothing. */
class InstallServiceCommandTest {

    @TempDir
    Path tmp;

    private Path jar() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("dist/lib"));
        Files.writeString(dir.resolve("picocli-4.7.7.jar"), "x");
        return Files.writeString(tmp.resolve("dist/mailproxy.jar"), "x");
    }

    @Test
    void dryRunPrintsTheSystemStepsWithoutRoot() throws Exception {
        Path jar = jar();
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "install-service", "--dry-run", "--jar", jar.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("mailproxy install-service would:\n")
                .contains("  copy " + jar + " and " + tmp.resolve("dist/lib") + "/*.jar to /opt/mailproxy (lib/ replaced)\n",
                        "  write /etc/systemd/system/mailproxy.service (mode 0644)\n",
                        "  run systemctl daemon-reload\n",
                        "  run systemctl enable --now mailproxy.service\n");
        assertThat(Path.of("/opt/mailproxy/mailproxy.jar")).doesNotExist();
    }

    @Test
    void dryRunUserNamesTheHomeDirectory() throws Exception {
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "install-service", "--user", "--dry-run", "--jar",
                jar().toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("mailproxy install-service --user would:\n")
                .contains("  create directory " + tmp.resolve(".local/share/mailproxy") + " (mode 0700)\n",
                        "  write " + tmp.resolve(".config/systemd/user/mailproxy.service") + " (mode 0644)\n",
                        "  run systemctl --user enable --now mailproxy.service\n");
        assertThat(tmp.resolve(".config")).doesNotExist();
    }

    @Test
    void aJarWithoutLibIsRefused() throws Exception {
        Path jar = Files.writeString(tmp.resolve("mailproxy.jar"), "x");
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "install-service", "--dry-run", "--jar", jar.toString());
        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).isEqualTo("mailproxy: no lib/ directory beside " + jar + System.lineSeparator());
    }

    @Test
    void fromTheClassesDirectoryItAsksForTheJar() {
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "install-service", "--dry-run");
        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).contains("install-service installs a packaged mailproxy.jar").contains("--jar FILE");
    }

    @Test
    void withoutSystemdNothingIsInstalled() throws Exception {
        // Only where systemd does not run: elsewhere this would install for real.
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.isDirectory(Path.of("/run/systemd/system")),
                "systemd runs here");
        TestFiles.Run r = TestFiles.mailproxy(Map.of(), tmp, "install-service", "--user", "--jar", jar().toString());
        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).startsWith("mailproxy: systemd is not running on this machine");
        assertThat(r.out()).isEmpty();
        assertThat(tmp.resolve(".config")).doesNotExist();
    }
}
