package org.mailproxy.core.crypto.openpgp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs gpg or sq from Debian's packages in a private home directory; tests using it carry {@code @Tag("interop")}. */
public final class ExternalTool implements AutoCloseable {
    public record Result(int exit, String stdout, String stderr) {
    }

    public final Path home;
    private final String binary;

    private ExternalTool(String binary) throws IOException {
        this.binary = binary;
        // short path: gpg-agent's socket path must fit in sun_path
        this.home = Files.createTempDirectory(Path.of("/tmp"), binary + "h");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

    public static ExternalTool require(String binary) throws IOException {
        assumeTrue(onPath(binary), binary + " is not installed: interop test skipped");
        return new ExternalTool(binary);
    }

    public static boolean onPath(String binary) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    public Result run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        if (binary.equals("gpg")) {
            cmd.addAll(List.of("--homedir", home.toString(), "--batch", "--no-tty", "--pinentry-mode", "loopback",
                    "--trust-model", "always"));
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.put("GNUPGHOME", home.toString());
        env.put("HOME", home.toString());
        Path out = Files.createTempFile(home, "out", ".txt");
        Path err = Files.createTempFile(home, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile()));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(binary + " timed out");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1));
    }

    public Result ok(String... args) throws IOException, InterruptedException {
        Result r = run(args);
        if (r.exit() != 0) {
            throw new AssertionError(binary + " " + String.join(" ", args) + " failed: " + r.stderr());
        }
        return r;
    }

    @Override
    public void close() throws Exception {
        if (binary.equals("gpg")) {
            new ProcessBuilder("gpgconf", "--homedir", home.toString(), "--kill", "all").start()
                    .waitFor(10, TimeUnit.SECONDS);
        }
        try (var w = Files.walk(home)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
