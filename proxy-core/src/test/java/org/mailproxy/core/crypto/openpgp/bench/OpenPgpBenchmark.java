package org.mailproxy.core.crypto.openpgp.bench;

import org.mailproxy.core.crypto.openpgp.DecryptionResult;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of encrypt+sign and decrypt+verify, ours beside gpg on the same data and keys, in one run.
 * Each size runs a warm-up round first (JIT compilation, page cache; 20 rounds per size up to 8 MB, else 3): the
 * main lines average the rounds after it, the "1st" lines show the warm-up round alone. Decryption time includes
 * reading the whole plaintext back from the spool. CPU is the CPU time of the whole JVM for ours (every thread: the
 * signature hash of a large message runs beside its decryption; the JIT compiler and the garbage collector count
 * too), user+system of the gpg process for gpg. Not a test. Run:
 * <pre>
 *   mvn -o -q -pl proxy-core test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 *   java -Xmx64m -cp proxy-core/target/test-classes:proxy-core/target/classes:$(cat /tmp/cp.txt) \
 *       org.mailproxy.core.crypto.openpgp.bench.OpenPgpBenchmark [sizesInMB...]
 * </pre>
 * Payloads are random (incompressible); gpg runs with {@code -z 0} like we do. Plaintext and ciphertext live in
 * files under /tmp, as they would in a spool.
 */
public final class OpenPgpBenchmark {
    private static final char[] PASS = "bench".toCharArray();
    private static final com.sun.management.OperatingSystemMXBean OS = (com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? new int[]{1, 200} : java.util.Arrays.stream(args).mapToInt(Integer::parseInt)
                .toArray();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "pgpbench");
        Path gnupg = Files.createDirectory(dir.resolve("g"));
        Files.setPosixFilePermissions(gnupg, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        try {
            Keyring ring = Keyring.open(dir.resolve("keys"));
            KeyInfo alice = ring.generate("alice@example.org", PASS, KeyVersion.V4);
            gpg(gnupg, "--passphrase", "", "--quick-gen-key", "Gus <gus@example.org>", "future-default", "default",
                    "never");
            Path gusPub = dir.resolve("gus.pgp");
            gpg(gnupg, "--export", "-o", gusPub.toString(), "gus@example.org");
            String gus;
            try (InputStream in = Files.newInputStream(gusPub)) {
                gus = ring.importKeys(in).get(0).fingerprint();
            }
            Path aliceSec = dir.resolve("alice.pgp");
            try (OutputStream o = Files.newOutputStream(aliceSec)) {
                ring.export(alice.fingerprint(), true, false, o);
            }
            gpg(gnupg, "--passphrase", new String(PASS), "--import", aliceSec.toString());
            UnlockedKey key = ring.unlock(alice.fingerprint(), PassphraseSource.ofChars(PASS));
            Encryptor encryptor = new Encryptor(ring);
            Decryptor decryptor = new Decryptor(ring, List.of(key),
                    OpenPgpLimits.DEFAULTS.withMaxPlaintextBytes(1L << 30), dir);

            System.out.printf(Locale.ROOT, "%-8s %-24s %10s %10s %8s%n", "size", "operation", "ours MB/s",
                    "gpg MB/s", "ratio");
            for (int mb : sizes) {
                Path plain = dir.resolve("plain-" + mb);
                writeRandom(plain, mb);
                // the first round of every size is a warm-up (JIT compilation, page cache), reported on its own
                int rounds = mb <= 8 ? 20 : 3;
                double oursEnc = 0;
                double gpgEnc = 0;
                double oursDec = 0;
                double gpgDec = 0;
                double oursEncCpu = 0;
                double gpgEncCpu = 0;
                double oursDecCpu = 0;
                double gpgDecCpu = 0;
                double[] first = null;
                Path oursOut = dir.resolve("ours.pgp");
                Path gpgOut = dir.resolve("gpg.pgp");
                for (int r = 0; r < rounds; r++) {
                    long c0 = OS.getProcessCpuTime();
                    long t0 = System.nanoTime();
                    try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(oursOut), 1 << 16);
                         OutputStream e = encryptor.open(o, List.of(gus, alice.fingerprint()), key, false);
                         InputStream in = Files.newInputStream(plain)) {
                        in.transferTo(e);
                    }
                    long t1 = System.nanoTime();
                    long c1 = OS.getProcessCpuTime();
                    Files.deleteIfExists(gpgOut);
                    // the same algorithms as ours (AES-256, SHA-256): the recipients' preferences alone may pick others
                    long g1 = gpg(gnupg, "--passphrase", new String(PASS), "-z", "0", "--cipher-algo", "AES256",
                            "--digest-algo", "SHA256", "-u", alice.fingerprint(), "-r", gus,
                            "-r", alice.fingerprint(), "-o", gpgOut.toString(), "--sign", "--encrypt",
                            plain.toString());
                    long t2 = System.nanoTime();
                    long c2 = OS.getProcessCpuTime();
                    try (InputStream in = Files.newInputStream(oursOut);
                         DecryptionResult d = decryptor.decrypt(in)) {
                        if (d.signatures().isEmpty()
                                || d.signatures().get(0).status() != SignatureResult.Status.VALID) {
                            throw new IllegalStateException("signature did not verify");
                        }
                        try (InputStream p = d.plaintext().orElseThrow().openStream()) {
                            if (p.transferTo(OutputStream.nullOutputStream()) != (long) mb << 20) {
                                throw new IllegalStateException("plaintext length differs");
                            }
                        }
                    }
                    long t3 = System.nanoTime();
                    long c3 = OS.getProcessCpuTime();
                    long g2 = gpg(gnupg, "--passphrase", new String(PASS), "-o", "/dev/null", "--decrypt",
                            oursOut.toString());
                    long t4 = System.nanoTime();
                    if (r == 0) {
                        first = new double[]{t1 - t0, t2 - t1, t3 - t2, t4 - t3, c1 - c0, g1, c3 - c2, g2};
                        continue; // warm-up
                    }
                    oursEnc += (t1 - t0);
                    gpgEnc += (t2 - t1);
                    oursDec += (t3 - t2);
                    gpgDec += (t4 - t3);
                    oursEncCpu += (c1 - c0);
                    gpgEncCpu += g1;
                    oursDecCpu += (c3 - c2);
                    gpgDecCpu += g2;
                }
                int counted = rounds - 1;
                report(mb, "encrypt+sign (wall)", mb * (double) counted, oursEnc, gpgEnc);
                report(mb, "encrypt+sign (cpu)", mb * (double) counted, oursEncCpu, gpgEncCpu);
                report(mb, "decrypt+verify (wall)", mb * (double) counted, oursDec, gpgDec);
                report(mb, "decrypt+verify (cpu)", mb * (double) counted, oursDecCpu, gpgDecCpu);
                report(mb, "1st enc+sign (wall)", mb, first[0], first[1]);
                report(mb, "1st enc+sign (cpu)", mb, first[4], first[5]);
                report(mb, "1st dec+verify (wall)", mb, first[2], first[3]);
                report(mb, "1st dec+verify (cpu)", mb, first[6], first[7]);
                Files.delete(plain);
            }
            StringBuilder pools = new StringBuilder();
            for (java.lang.management.MemoryPoolMXBean pool
                    : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                    pools.append(String.format(Locale.ROOT, ", %s peak %d MB", pool.getName(),
                            pool.getPeakUsage().getUsed() >> 20));
                }
            }
            System.out.printf(Locale.ROOT, "max heap %d MB%s%n", Runtime.getRuntime().maxMemory() >> 20, pools);
            key.close();
        } finally {
            new ProcessBuilder("gpgconf", "--homedir", gnupg.toString(), "--kill", "all").start().waitFor();
            try (var w = Files.walk(dir)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void report(int mb, String op, double totalMb, double oursNanos, double gpgNanos) {
        double ours = totalMb / (oursNanos / 1e9);
        double gpg = totalMb / (gpgNanos / 1e9);
        System.out.printf(Locale.ROOT, "%-8s %-24s %10.1f %10.1f %8.2f%n", mb + " MB", op, ours, gpg, ours / gpg);
    }

    private static void writeRandom(Path p, int mb) throws IOException {
        byte[] chunk = new byte[1 << 20];
        Random rnd = new Random(mb);
        try (OutputStream o = Files.newOutputStream(p)) {
            for (int i = 0; i < mb; i++) {
                rnd.nextBytes(chunk);
                o.write(chunk);
            }
        }
    }

    /** Runs gpg and returns its user+system CPU time in nanoseconds (from /usr/bin/time when present). */
    private static long gpg(Path home, String... args) throws IOException, InterruptedException {
        boolean timed = Files.isExecutable(Path.of("/usr/bin/time"));
        Path times = Files.createTempFile("gpgtime", ".txt");
        List<String> cmd = new ArrayList<>();
        if (timed) {
            cmd.addAll(List.of("/usr/bin/time", "-o", times.toString(), "-f", "%U %S"));
        }
        cmd.addAll(List.of("gpg", "--homedir", home.toString(), "--batch", "--no-tty",
                "--pinentry-mode", "loopback", "--trust-model", "always", "-q"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        p.getInputStream().transferTo(out);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("gpg failed: " + out);
        }
        long nanos = 0;
        if (timed) {
            String[] t = Files.readString(times).trim().split("\\s+");
            nanos = (long) ((Double.parseDouble(t[t.length - 2]) + Double.parseDouble(t[t.length - 1])) * 1e9);
        }
        Files.delete(times);
        return nanos;
    }
}
