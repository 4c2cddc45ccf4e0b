package org.mailproxy.app.systemd;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What {@code mailproxy install-service} does, as a list of {@link Step}s that are either printed ({@code --dry-run})
 * or carried out on a {@link Host}.
 *
 * <p>System service (root): the installation (mailproxy.jar and lib/) is copied to {@value #OPT} and a launcher
 * written to {@value #LAUNCHER}, so the unit does not depend on a build directory or a user's home; the user
 * {@value #USER} is created when missing; {@code /etc/mailproxy} gets a starter mailproxy.conf (data-dir
 * {@code /var/lib/mailproxy}) and an empty passphrase file when they are missing (systemd refuses to start a unit
 * whose {@code LoadCredential=} file does not exist); the unit goes to {@code /etc/systemd/system}.
 *
 * <p>User service: the unit goes to {@code ~/.config/systemd/user} with {@code ExecStart} running the installation
 * that ran the command (its Java and its jar), the data-dir {@code ~/.local/share/mailproxy} is created owner-only
 * (the unit may write nowhere else in the home directory), and the configuration directory gets the same starter
 * files as above when they are missing.
 *
 * <p>Both then run {@code systemctl [--user] daemon-reload}, {@code try-restart} (a running older version picks up
 * the new files) and {@code enable --now}. Existing configuration and passphrase files are never overwritten.
 */
public final class ServiceInstaller {

    static final String USER = "mailproxy";
    static final String OPT = "/opt/mailproxy";
    static final String LAUNCHER = "/usr/local/bin/mailproxy";
    static final String SYSTEM_UNIT = "/etc/systemd/system/mailproxy.service";
    static final String ETC = "/etc/mailproxy";
    static final String STATE = "/var/lib/mailproxy";
    static final String CREDENTIAL = "mailproxy-passphrase";

    /** Where mailproxy runs from now: its jar, the lib/ directory beside it, and the Java running it. */
    public record Installation(Path jar, Path lib, Path java) {
    }

    /** The outside world the steps act on; tests root it in a temporary directory and record the commands. */
    public interface Host {
        /** The real path of an absolute path ({@code /etc/...}). */
        Path path(String absolute);

        /** Runs a command with inherited output and returns its exit code. */
        int run(List<String> command) throws IOException;
    }

    /** One thing the installer does. */
    public sealed interface Step {
        /** What it does, for the person running the command. */
        String describe();

        void apply(Host host) throws IOException;
    }

    /** Writes a file with a mode; with {@code keep}, an existing file is left as it is. */
    public record WriteFile(String path, String content, String mode, boolean keep) implements Step {
        @Override
        public String describe() {
            return "write " + path + " (mode " + octal(mode) + ")" + (keep ? " unless it exists" : "");
        }

        @Override
        public void apply(Host host) throws IOException {
            Path p = host.path(path);
            if (keep && Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            Files.createDirectories(p.getParent());
            Path tmp = p.resolveSibling("." + p.getFileName() + ".new");
            Files.deleteIfExists(tmp);
            // Created with its final mode, so a secret-to-be is never readable by others, not even briefly.
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode));
            Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    /** Creates a directory (and missing parents) with a mode, or sets the mode of an existing one. */
    public record MakeDirectory(String path, String mode) implements Step {
        @Override
        public String describe() {
            return "create directory " + path + " (mode " + octal(mode) + ")";
        }

        @Override
        public void apply(Host host) throws IOException {
            Path p = host.path(path);
            Files.createDirectories(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        }
    }

    /** Copies mailproxy.jar and lib/*.jar into a directory; jars left from an older version are removed. */
    public record CopyInstallation(Installation from, String to) implements Step {
        @Override
        public String describe() {
            return "copy " + from.jar() + " and " + from.lib() + "/*.jar to " + to + " (lib/ replaced)";
        }

        @Override
        public void apply(Host host) throws IOException {
            Path dir = host.path(to);
            Path lib = dir.resolve("lib");
            Files.createDirectories(lib);
            Set<String> jars = new TreeSet<>();
            try (Stream<Path> s = Files.list(from.lib())) {
                for (Path j : (Iterable<Path>) s.filter(f -> f.toString().endsWith(".jar"))::iterator) {
                    jars.add(j.getFileName().toString());
                    Files.copy(j, lib.resolve(j.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            try (Stream<Path> s = Files.list(lib)) {
                for (Path old : (Iterable<Path>) s::iterator) {
                    if (!jars.contains(old.getFileName().toString())) {
                        Files.delete(old);
                    }
                }
            }
            Files.copy(from.jar(), dir.resolve("mailproxy.jar"), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Creates the service's system user unless it exists. */
    public record CreateUser(String name, String home) implements Step {
        List<String> command() {
            return List.of("useradd", "--system", "--user-group", "--home-dir", home, "--no-create-home",
                    "--shell", "/usr/sbin/nologin", name);
        }

        @Override
        public String describe() {
            return "create the system user " + name + " unless it exists: " + String.join(" ", command());
        }

        @Override
        public void apply(Host host) throws IOException {
            if (host.run(List.of("getent", "passwd", name)) == 0) {
                return;
            }
            check(host, command());
        }
    }

    /** Runs a command; a failure stops the installation. */
    public record Run(List<String> command) implements Step {
        @Override
        public String describe() {
            return "run " + String.join(" ", command);
        }

        @Override
        public void apply(Host host) throws IOException {
            check(host, command);
        }
    }

    private static void check(Host host, List<String> command) throws IOException {
        int code = host.run(command);
        if (code != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit code " + code + ")");
        }
    }

    private ServiceInstaller() {
    }

    /** The steps that install and start the system service. */
    public static List<Step> system(Installation installation) {
        List<Step> steps = new ArrayList<>();
        steps.add(new CreateUser(USER, STATE));
        if (!installation.jar().toAbsolutePath().normalize().equals(Path.of(OPT, "mailproxy.jar"))) {
            steps.add(new MakeDirectory(OPT, "rwxr-xr-x"));
            steps.add(new CopyInstallation(installation, OPT));
        }
        steps.add(new WriteFile(LAUNCHER, launcher(installation.java(), Path.of(OPT, "mailproxy.jar")), "rwxr-xr-x",
                false));
        steps.add(new MakeDirectory(ETC, "rwxr-x---"));
        steps.add(new WriteFile(ETC + "/mailproxy.conf", starterConfig(STATE), "rw-r-----", true));
        steps.add(new WriteFile(ETC + "/passphrase", "", "rw-------", true));
        // The configuration is readable by the service's group; the passphrase reaches it only as a credential.
        steps.add(new Run(List.of("chgrp", USER, ETC, ETC + "/mailproxy.conf")));
        steps.add(new WriteFile(SYSTEM_UNIT, unit("mailproxy.service"), "rw-r--r--", false));
        steps.addAll(systemctl(List.of("systemctl")));
        return List.copyOf(steps);
    }

    /** The steps that install and start the user service of the user whose home is {@code home}. */
    public static List<Step> user(Installation installation, Path home) {
        String config = home.resolve(".config/mailproxy").toString();
        String data = home.resolve(".local/share/mailproxy").toString();
        String unit = unit("mailproxy-user.service").replaceFirst("(?m)^ExecStart=.*$", Matcher.quoteReplacement(
                "ExecStart=" + execArgument(installation.java().toString()) + " -jar "
                        + execArgument(installation.jar().toString()) + " run --config %E/mailproxy/mailproxy.conf"));
        List<Step> steps = new ArrayList<>();
        steps.add(new MakeDirectory(data, "rwx------"));
        steps.add(new MakeDirectory(config, "rwx------"));
        steps.add(new WriteFile(config + "/mailproxy.conf", starterConfig(null), "rw-------", true));
        steps.add(new WriteFile(config + "/passphrase", "", "rw-------", true));
        steps.add(new WriteFile(home.resolve(".config/systemd/user/mailproxy.service").toString(), unit, "rw-r--r--",
                false));
        steps.addAll(systemctl(List.of("systemctl", "--user")));
        return List.copyOf(steps);
    }

    private static List<Step> systemctl(List<String> systemctl) {
        List<Step> steps = new ArrayList<>();
        for (List<String> args : List.of(List.of("daemon-reload"), List.of("try-restart", "mailproxy.service"),
                List.of("enable", "--now", "mailproxy.service"))) {
            List<String> command = new ArrayList<>(systemctl);
            command.addAll(args);
            steps.add(new Run(List.copyOf(command)));
        }
        return steps;
    }

    /** A unit file as shipped in this package. */
    public static String unit(String name) {
        try (InputStream in = ServiceInstaller.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The launcher: it execs Java, so the JVM is the unit's main process (READY=1 must come from it). The Java
     * that ran the installation is used while it exists, else {@code java} on the PATH.
     */
    static String launcher(Path java, Path jar) {
        return "#!/bin/sh\n"
                + "# mailproxy, as installed by `mailproxy install-service`. Java options go in MAILPROXY_JAVA_OPTS.\n"
                + "java=" + shellQuote(java.toString()) + "\n"
                + "[ -x \"$java\" ] || java=java\n"
                + "exec \"$java\" ${MAILPROXY_JAVA_OPTS:-} -jar " + shellQuote(jar.toString()) + " \"$@\"\n";
    }

    /** A configuration that starts (no accounts yet), with the account block the units expect as a comment. */
    static String starterConfig(String dataDir) {
        return "# mailproxy configuration (HOCON). Every setting and its default: reference.conf, shown in the README.\n"
                + "mailproxy {\n"
                + (dataDir != null
                        ? "  # The unit's StateDirectory=; the service may write nowhere else.\n"
                        + "  data-dir = \"" + dataDir + "\"\n"
                        : "")
                + "  accounts = [\n"
                + "    # { email = \"alice@example.com\", login = \"alice\",\n"
                + "    #   imap.upstream = \"imaps://imap.example.com:993\", smtp.upstream = \"smtps://smtp.example.com:465\"\n"
                + "    #   # The passphrase's first line in the file the unit's LoadCredential= names:\n"
                + "    #   key { passphrase-credential = \"" + CREDENTIAL + "\" } }\n"
                + "  ]\n"
                + "}\n";
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private static String shellQuote(String s) {
        return PLAIN.matcher(s).matches() ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /**
     * One ExecStart= argument (systemd.service(5), "Command lines"): specifiers ({@code %}) and variable
     * references ({@code $}) doubled; quoted when it holds anything but plain path characters.
     */
    static String execArgument(String s) {
        String escaped = s.replace("%", "%%").replace("$", "$$");
        if (escaped.matches("[A-Za-z0-9_@%+=:,./$-]+")) {
            return escaped;
        }
        return "\"" + escaped.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String octal(String mode) {
        int bits = 0;
        for (char c : mode.toCharArray()) {
            bits = bits << 1 | (c == '-' ? 0 : 1);
        }
        return String.format("%04o", bits);
    }
}
