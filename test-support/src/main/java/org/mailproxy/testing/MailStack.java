package org.mailproxy.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test mail provider on loopback: Debian's Dovecot and Postfix started by {@code scripts/teststack/teststack.sh}
 * (shipped inside this jar), once per JVM, on free ports chosen here, stopped by a shutdown hook.
 *
 * <pre>{@code
 * MailStack stack = MailStack.require();      // skips the test with the reason when the stack cannot run here
 * try (SSLSocket s = (SSLSocket) stack.clientSocketFactory().createSocket(stack.host(), stack.imapsPort())) { ... }
 * stack.awaitMessages(stack.bob(), "INBOX", 1, Duration.ofSeconds(10));
 * }</pre>
 *
 * <p>The run directory is {@code target/mailstack} of the module whose tests run (the working directory of
 * Surefire); {@code target/mailstack-<pid>} while another JVM holds {@code target/mailstack.lock}; a temporary
 * directory when there is no {@code target} or its path is too long for unix sockets. The system property
 * {@code mailstack.dir} overrides it. Its {@code logs/} hold Dovecot's and Postfix's logs.
 * Starting kills what a previous run left behind in the same directory.
 *
 * <p>Needs root (Postfix and Dovecot run as root here) and the packages dovecot-core, dovecot-imapd,
 * dovecot-lmtpd, postfix and openssl, which the script installs when missing. Dovecot treats connections from
 * the same address as secure, so on loopback it accepts LOGIN before STARTTLS and does not announce LOGINDISABLED;
 * tests of refused plaintext need a fake server.
 */
public final class MailStack implements UpstreamStack {

    private static final Logger LOG = LoggerFactory.getLogger(MailStack.class);
    private static final String SCRIPT_RESOURCE = "/org/mailproxy/testing/teststack/teststack.sh";
    private static final int EXIT_UNAVAILABLE = 3;
    /** Longest run directory whose Dovecot sockets still fit the 108-byte limit of a unix socket path. */
    private static final int MAX_RUN_DIR_LENGTH = 50;
    static final List<MailUser> USERS = List.of(
            new MailUser("alice@example.test", "alice@example.test", "alice-secret"),
            new MailUser("bob@example.test", "bob@example.test", "bob-secret"),
            new MailUser("carol@example.test", "carol@example.test", "carol-secret"));

    private static MailStack instance;
    private static RuntimeException failure;
    /** Kept referenced so the lock on the run directory lasts as long as the JVM. */
    @SuppressWarnings("unused")
    private static FileLock runDirLock;

    private final Path runDir;
    private final Path script;
    private final int imapsPort;
    private final int imapStarttlsPort;
    private final int submissionPort;
    private final int submissionsPort;

    private MailStack(Path runDir, Path script, List<Integer> ports) {
        this.runDir = runDir;
        this.script = script;
        this.imapsPort = ports.get(0);
        this.imapStarttlsPort = ports.get(1);
        this.submissionPort = ports.get(2);
        this.submissionsPort = ports.get(3);
    }

    /**
     * The running stack, started on first use.
     *
     * @throws MailStackUnavailableException when the stack cannot run on this machine
     * @throws IllegalStateException         when it should run but did not start (the message has the log tail)
     */
    public static synchronized MailStack get() {
        if (instance != null) {
            return instance;
        }
        if (failure != null) {
            throw failure;
        }
        try {
            instance = start();
            return instance;
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    /**
     * The running stack, or aborts the calling test (JUnit 5: reported as skipped, with the reason) when the stack
     * cannot run on this machine. A stack that should run but fails to start fails the test instead.
     */
    public static MailStack require() {
        try {
            return get();
        } catch (MailStackUnavailableException e) {
            Assumptions.abort("test mail stack unavailable: " + e.getMessage());
            throw e;
        }
    }

    /** Why the stack cannot run here (starting it if it has not been tried), or empty when it runs. */
    public static Optional<String> unavailableReason() {
        try {
            get();
            return Optional.empty();
        } catch (MailStackUnavailableException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static MailStack start() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new MailStackUnavailableException("needs Linux with Debian's dovecot and postfix packages");
        }
        long started = System.nanoTime();
        Path runDir = chooseRunDir();
        Path script = extractScript(runDir);
        MailStack stack = new MailStack(runDir, script, FreePorts.pick(4));
        try {
            stack.run(600, "start");
        } catch (IllegalStateException e) {
            // Another process may have taken a port between choosing and binding it: once more, on new ports.
            LOG.warn("test mail stack did not start, retrying on other ports: {}", e.getMessage());
            stack = new MailStack(runDir, script, FreePorts.pick(4));
            stack.run(600, "start");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(stack::stopQuietly, "mailstack-stop"));
        LOG.info("test mail stack up in {} ms: imaps={} imap={} submission={} submissions={} dir={}",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), stack.imapsPort, stack.imapStarttlsPort,
                stack.submissionPort, stack.submissionsPort, runDir);
        return stack;
    }

    private static Path chooseRunDir() {
        try {
            String configured = System.getProperty("mailstack.dir");
            Path dir;
            if (configured != null && !configured.isBlank()) {
                dir = Path.of(configured).toAbsolutePath();
            } else {
                Path target = Path.of("target").toAbsolutePath();
                dir = target.resolve("mailstack");
                if (Files.isDirectory(target) && !lockRunDir(target)) {
                    // Another JVM runs this module's stack; starting here would stop its servers.
                    dir = target.resolve("mailstack-" + ProcessHandle.current().pid());
                }
                if (!Files.isDirectory(target) || dir.toString().length() > MAX_RUN_DIR_LENGTH) {
                    dir = Path.of(System.getProperty("java.io.tmpdir"), "mailstack-" + ProcessHandle.current().pid());
                }
            }
            Files.createDirectories(dir);
            return dir.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the mail stack's run directory", e);
        }
    }

    /** Holds {@code target/mailstack.lock} for the life of this JVM; false when another JVM holds it. */
    private static boolean lockRunDir(Path target) throws IOException {
        FileChannel channel = FileChannel.open(target.resolve("mailstack.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            channel.close();
            return false;
        }
        runDirLock = lock;
        return true;
    }

    private static Path extractScript(Path runDir) {
        Path script = runDir.resolve("teststack.sh");
        try (InputStream in = MailStack.class.getResourceAsStream(SCRIPT_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(SCRIPT_RESOURCE + " is missing from the classpath");
            }
            Path tmp = runDir.resolve("teststack.sh.tmp");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(tmp, script, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return script;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + script, e);
        }
    }

    /**
     * Runs the script with the ports in its environment. Output goes to a file, never to a pipe of this JVM: the
     * servers the script starts must not hold this process's pipes (they outlive the script).
     */
    private void run(int timeoutSeconds, String command, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), command, runDir.toString()));
        cmd.addAll(List.of(args));
        Path out = runDir.resolve("teststack.out");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("TESTSTACK_IMAPS_PORT", Integer.toString(imapsPort));
        env.put("TESTSTACK_IMAP_PORT", Integer.toString(imapStarttlsPort));
        env.put("TESTSTACK_SUBMISSION_PORT", Integer.toString(submissionPort));
        env.put("TESTSTACK_SUBMISSIONS_PORT", Integer.toString(submissionsPort));
        env.put("TESTSTACK_LISTEN", "127.0.0.1");
        long offset = size(out);
        int exit;
        try {
            Process process = pb.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("teststack.sh " + command + " timed out; see " + out);
            }
            exit = process.exitValue();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running teststack.sh " + command, e);
        }
        if (exit == 0) {
            return;
        }
        String output = tail(out, offset);
        if (exit == EXIT_UNAVAILABLE) {
            throw new MailStackUnavailableException(reason(output));
        }
        throw new IllegalStateException("teststack.sh " + command + " failed (exit " + exit + "); logs in "
                + runDir.resolve("logs") + ":\n" + output);
    }

    private static String reason(String output) {
        String prefix = "teststack: unavailable: ";
        for (String line : output.split("\n")) {
            if (line.startsWith(prefix)) {
                return line.substring(prefix.length()).trim();
            }
        }
        return output.trim();
    }

    private static long size(Path file) {
        try {
            return Files.exists(file) ? Files.size(file) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String tail(Path file, long offset) {
        try {
            byte[] all = Files.readAllBytes(file);
            int from = (int) Math.min(offset, all.length);
            from = Math.max(from, all.length - 8192);
            return new String(all, from, all.length - from, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    private void stopQuietly() {
        try {
            run(60, "stop");
        } catch (RuntimeException e) {
            System.err.println("test mail stack did not stop cleanly: " + e.getMessage());
        }
    }

    @Override
    public String host() {
        return "localhost";
    }

    @Override
    public int imapsPort() {
        return imapsPort;
    }

    @Override
    public int imapStarttlsPort() {
        return imapStarttlsPort;
    }

    @Override
    public int submissionPort() {
        return submissionPort;
    }

    @Override
    public int submissionsPort() {
        return submissionsPort;
    }

    @Override
    public Path caCertFile() {
        return runDir.resolve("ca/ca.crt");
    }

    /** The servers' certificate chain (PEM: the {@code localhost} certificate, then the CA). */
    public Path serverCertFile() {
        return runDir.resolve("ca/server-chain.crt");
    }

    /** The servers' private key (PEM, PKCS#8, EC P-256); usable for a local TLS listener trusted via the CA. */
    public Path serverKeyFile() {
        return runDir.resolve("ca/server.key");
    }

    /** Where this instance keeps configs, mail, logs and pid files. */
    public Path runDir() {
        return runDir;
    }

    /** Dovecot's and Postfix's logs ({@code dovecot.log}, {@code postfix.log}). */
    public Path logDir() {
        return runDir.resolve("logs");
    }

    @Override
    public List<MailUser> users() {
        return USERS;
    }

    /** The root of the user's maildir (INBOX; other folders are {@code .Name} below it). */
    public Path maildir(MailUser user) {
        return runDir.resolve("mail").resolve(user(user.email()).email().toLowerCase()).resolve("Maildir");
    }

    @Override
    public void deliver(MailUser user, String folder, byte[] rfc822) {
        try {
            Path tmp = Files.createTempFile(runDir, "deliver-", ".eml");
            try {
                Files.write(tmp, rfc822);
                run(60, "deliver", user(user.email()).email(), tmp.toString(), folder);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot deliver to " + user.email(), e);
        }
    }

    @Override
    public List<StoredMessage> messages(MailUser user, String folder) {
        return new Maildir(maildir(user)).messages(folder);
    }

    @Override
    public void clearMailbox(MailUser user) {
        run(60, "clear", user(user.email()).email());
    }

    @Override
    public void stopPostfix() {
        run(60, "stop-postfix");
    }

    @Override
    public void startPostfix() {
        run(120, "start-postfix");
    }

    @Override
    public String toString() {
        return "MailStack[imaps=" + imapsPort + ", imap=" + imapStarttlsPort + ", submission=" + submissionPort
                + ", submissions=" + submissionsPort + ", dir=" + runDir + "]";
    }
}
