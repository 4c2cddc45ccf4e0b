package org.mailproxy.app;

import org.mailproxy.app.systemd.ServiceInstaller;
import org.mailproxy.app.systemd.ServiceInstaller.Installation;
import org.mailproxy.app.systemd.ServiceInstaller.Step;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy install-service [--user] [--dry-run]}: installs the systemd unit and starts it (see
 * {@link ServiceInstaller} for exactly what is written where). The system service needs root; {@code --user}
 * installs the unit of the user running the command. {@code --dry-run} prints the steps and changes nothing.
 */
@Command(name = "install-service", description = {
        "Install and start mailproxy as a systemd service.",
        "System (as root): copies this installation to /opt/mailproxy, writes /usr/local/bin/mailproxy, creates the "
                + "user mailproxy and /etc/mailproxy, writes /etc/systemd/system/mailproxy.service, then "
                + "systemctl daemon-reload and enable --now.",
        "--user: writes ~/.config/systemd/user/mailproxy.service running this installation, then systemctl --user "
                + "daemon-reload and enable --now."})
final class InstallServiceCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--user", description = "Install the user service of the current user instead of the system service.")
    boolean user;

    @Option(names = "--dry-run", description = "Print what would be done and change nothing.")
    boolean dryRun;

    @Option(names = "--jar", paramLabel = "FILE", description = "The mailproxy.jar to install, with its lib/ directory "
            + "beside it (default: the one running).")
    Path jar;

    @Override
    public Integer call() throws IOException {
        Main.Environment env = root.environment;
        PrintWriter out = env.out();
        Installation installation = installation();
        List<Step> steps = user ? ServiceInstaller.user(installation, Path.of(env.userHome()))
                : ServiceInstaller.system(installation);
        if (dryRun) {
            out.println("mailproxy install-service" + (user ? " --user" : "") + " would:");
            for (Step s : steps) {
                out.println("  " + s.describe());
            }
            return Main.OK;
        }
        if (!Files.isDirectory(Path.of("/run/systemd/system"))) {
            // sd_booted(3): the directory exists only while systemd is the running init system.
            env.err().println("mailproxy: systemd is not running on this machine (no /run/systemd/system); "
                    + "start `mailproxy run` another way, or see the Docker image");
            return Main.FAILURE;
        }
        if (!user && !isRoot()) {
            env.err().println("mailproxy: installing the system service needs root (sudo mailproxy install-service), "
                    + "or use --user for a user service; --dry-run shows what it does");
            return Main.FAILURE;
        }
        ServiceInstaller.Host host = new ServiceInstaller.Host() {
            @Override
            public Path path(String absolute) {
                return Path.of(absolute);
            }

            @Override
            public int run(List<String> command) throws IOException {
                out.flush();
                try {
                    return new ProcessBuilder(command).inheritIO().start().waitFor();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted: " + String.join(" ", command), e);
                }
            }
        };
        for (Step s : steps) {
            out.println(s.describe());
            s.apply(host);
        }
        out.println(user
                ? "mailproxy runs as a user service: systemctl --user status mailproxy; logs: journalctl --user -u mailproxy"
                : "mailproxy runs as a system service: systemctl status mailproxy; logs: journalctl -u mailproxy");
        out.println("Configure accounts in " + (user ? Path.of(env.userHome(), ".config/mailproxy/mailproxy.conf")
                : "/etc/mailproxy/mailproxy.conf") + ", the key passphrase (first line) in "
                + (user ? Path.of(env.userHome(), ".config/mailproxy/passphrase") : "/etc/mailproxy/passphrase")
                + ", then: systemctl " + (user ? "--user " : "") + "restart mailproxy");
        return Main.OK;
    }

    /** The jar given with --jar, else the one this class was loaded from; lib/ must be beside it. */
    private Installation installation() {
        Path j = jar;
        if (j == null) {
            try {
                j = Path.of(InstallServiceCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            } catch (URISyntaxException | RuntimeException e) {
                j = null;
            }
        }
        if (j == null || !Files.isRegularFile(j) || !j.getFileName().toString().endsWith(".jar")) {
            throw new IllegalStateException("install-service installs a packaged mailproxy.jar (proxy-app/target after "
                    + "mvn package, as ./mailproxy runs it); this one runs from " + j + "; use --jar FILE");
        }
        j = j.toAbsolutePath().normalize();
        Path lib = j.resolveSibling("lib");
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException("no lib/ directory beside " + j);
        }
        return new Installation(j, lib, Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    /** /proc/self belongs to the process's effective user. */
    private static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
