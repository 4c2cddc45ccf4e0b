package org.mailproxy.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/** {@code mailproxy} in its own JVM (the test class path), so that signals and exit codes are real. */
final class MailproxyProcess implements AutoCloseable {

    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();
    private final Process process;
    private final List<Thread> readers = new ArrayList<>();

    MailproxyProcess(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("MAILPROXY_LOG_LEVEL", "INFO");
        process = pb.start();
        readers.add(pump(process.getInputStream(), out));
        readers.add(pump(process.getErrorStream(), err));
    }

    private static Thread pump(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Waits until a line matches, or the process ended. */
    void awaitLine(List<String> lines, Predicate<String> match) {
        await().atMost(Duration.ofSeconds(60)).until(() -> lines.stream().anyMatch(match) || !process.isAlive());
    }

    /** Sends SIGTERM and returns the exit code. */
    int terminate() throws InterruptedException {
        // Through the handle: Process.destroy() would also close our ends of the pipes, losing what the shutdown
        // hook logs.
        process.toHandle().destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("still running 30s after SIGTERM");
        }
        for (Thread t : readers) {
            t.join(5000);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
