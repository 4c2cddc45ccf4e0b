package org.mailproxy.e2e;

import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * An external mail client run as a process. Tests that need one skip, with the reason, where it is not installed
 * (scripts/test installs them all). Output goes to files, so a chatty client can never block on a full pipe.
 */
final class Tool {

    private final String name;
    private final Path binary;

    private Tool(String name, Path binary) {
        this.name = name;
        this.binary = binary;
    }

    /** The client on PATH, or aborts the calling test (reported as skipped with the reason). */
    /** Copies the Python standard-library client the e2e tests drive (stdlib_client.py) into {@code dir}. */
    static java.nio.file.Path stdlibClient(java.nio.file.Path dir) throws java.io.IOException {
        java.nio.file.Path script = dir.resolve("stdlib_client.py");
        try (java.io.InputStream in = Tool.class.getResourceAsStream("stdlib_client.py")) {
            if (in == null) {
                throw new IllegalStateException("stdlib_client.py is not on the test classpath");
            }
            java.nio.file.Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return script;
    }

    static Tool require(String name) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return new Tool(name, candidate);
            }
        }
        Assumptions.abort(name + " is not installed (scripts/test installs it); skipping this client");
        throw new IllegalStateException("unreachable");
    }

    /** What a finished run left: exit code, stdout as bytes (message bodies are compared byte for byte), stderr. */
    record Result(int exit, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        /** For assertion messages: never includes stdout, which may be a whole message. */
        String describe() {
            return "exit " + exit + ", " + stdout.length + " bytes on stdout, stderr:\n" + stderr;
        }
    }

    Result run(Path workDir, Duration timeout, List<String> args) {
        return run(workDir, timeout, args, null, Map.of());
    }

    /**
     * Runs the client in {@code workDir} with the arguments; {@code stdin} (may be null) is fed as its input.
     * A run that outlives the timeout is killed and fails the test.
     */
    Result run(Path workDir, Duration timeout, List<String> args, byte[] stdin, Map<String, String> env) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(args);
        try {
            Path dir = Files.createTempDirectory(workDir, name + "-run");
            Path in = dir.resolve("stdin");
            Files.write(in, stdin == null ? new byte[0] : stdin);
            Path out = dir.resolve("stdout");
            Path err = dir.resolve("stderr");
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .directory(workDir.toFile())
                    .redirectInput(in.toFile())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().put("HOME", workDir.toString());
            pb.environment().putAll(env);
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError(name + " did not finish within " + timeout + "; stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readAllBytes(out),
                    new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + name, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while " + name + " ran", e);
        }
    }
}
