package org.mailproxy.app;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/** Helpers shared by the tests: owner-only directories, config files, a captured command line. */
final class TestFiles {

    private TestFiles() {
    }

    /** An owner-only data directory under {@code parent}, as the daemon wants it. */
    static Path dataDir(Path parent) throws IOException {
        Path dir = parent.resolve("data");
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        return dir;
    }

    static Path write(Path dir, String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    /** A loopback port nothing listens on right now. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** HOCON for a string value. */
    static String q(Object value) {
        return Demo.quote(value.toString());
    }

    /** Runs the command line in-process with a given environment and captures what it prints. */
    record Run(int exitCode, String out, String err) {
    }

    static Run mailproxy(Map<String, String> env, Path home, String... args) {
        return mailproxy(env, home, null, args);
    }

    /** As above, with a terminal that answers password prompts ({@code null}: no terminal). */
    static Run mailproxy(Map<String, String> env, Path home, Main.PasswordPrompt terminal, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new Main.Environment(env, home.toString(), new PrintWriter(out, true),
                new PrintWriter(err, true), () -> terminal));
        return new Run(code, out.toString(), err.toString());
    }
}
