package org.mailproxy.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * GnuPG in a private home directory: one per mail user, holding that user's own secret key, so that "bob can read
 * it" is checked by bob's own software and key, not by our decryptor. Runs in batch mode with loopback pinentry and
 * the trust model {@code always} (trust is not what these tests are about). The home sits directly under /tmp:
 * gpg-agent's socket path must fit in a unix socket address.
 */
final class Gpg implements AutoCloseable {

    /** A finished gpg run: exit code, stdout as bytes (decrypted messages are compared byte for byte), status lines. */
    record Result(int exit, byte[] stdout, String stderr) {
        /** The {@code [GNUPG:]} status lines (--status-fd 2), without that prefix. */
        List<String> status() {
            return stderr.lines().filter(l -> l.startsWith("[GNUPG:] ")).map(l -> l.substring(9)).toList();
        }

        String describe() {
            return "gpg exit " + exit + ", stderr:\n" + stderr;
        }
    }

    private static final Pattern PKESK_KEYID = Pattern.compile("^:pubkey enc packet: .*keyid ([0-9A-Fa-f]{16})",
            Pattern.MULTILINE);

    private final Path home;

    private Gpg(Path home) {
        this.home = home;
    }

    /** A new empty home, or aborts the calling test where gpg is not installed. */
    static Gpg create() {
        Tool.require("gpg");
        try {
            Path home = Files.createTempDirectory(Path.of("/tmp"), "e2egpg");
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
            return new Gpg(home);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Result run(byte[] stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of("gpg", "--homedir", home.toString(), "--batch", "--no-tty",
                "--pinentry-mode", "loopback", "--trust-model", "always", "--status-fd", "2"));
        cmd.addAll(Arrays.asList(args));
        try {
            Path in = Files.createTempFile(home, "in", ".bin");
            Path out = Files.createTempFile(home, "out", ".bin");
            Path err = Files.createTempFile(home, "err", ".txt");
            Files.write(in, stdin == null ? new byte[0] : stdin);
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(in.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().put("GNUPGHOME", home.toString());
            pb.environment().put("HOME", home.toString());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("gpg " + String.join(" ", args) + " did not finish within 60 s");
            }
            Result r = new Result(p.exitValue(), Files.readAllBytes(out),
                    Files.readString(err, StandardCharsets.ISO_8859_1));
            Files.delete(in);
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run gpg", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while gpg ran", e);
        }
    }

    Result ok(byte[] stdin, String... args) {
        Result r = run(stdin, args);
        if (r.exit() != 0) {
            throw new AssertionError("gpg " + String.join(" ", args) + " failed: " + r.describe());
        }
        return r;
    }

    /** Generates an Ed25519/cv25519 key without passphrase for {@code userId}; returns its primary fingerprint. */
    String generate(String userId) {
        ok(null, "--passphrase", "", "--quick-gen-key", userId, "future-default", "default", "never");
        return fingerprint(userId);
    }

    /** The primary key's fingerprint of the (one) key matching {@code who}, upper case. */
    String fingerprint(String who) {
        return colons(who).filter(f -> f[0].equals("fpr")).findFirst().map(f -> f[9].toUpperCase(Locale.ROOT))
                .orElseThrow(() -> new AssertionError("gpg has no key for " + who));
    }

    /** Long key IDs of the encryption-capable subkeys of the key matching {@code who}, upper case. */
    Set<String> encryptionKeyIds(String who) {
        Set<String> ids = new LinkedHashSet<>();
        colons(who).filter(f -> f[0].equals("sub") && f[11].contains("e"))
                .forEach(f -> ids.add(f[4].toUpperCase(Locale.ROOT)));
        if (ids.isEmpty()) {
            throw new AssertionError("gpg has no encryption subkey for " + who);
        }
        return ids;
    }

    private Stream<String[]> colons(String who) {
        String listing = new String(ok(null, "--with-colons", "--fixed-list-mode", "--list-keys", who).stdout(),
                StandardCharsets.UTF_8);
        return listing.lines().map(l -> l.split(":", -1));
    }

    byte[] exportPublic(String who) {
        return ok(null, "--export", who).stdout();
    }

    void importKeys(byte[] keys, String passphrase) {
        ok(keys, "--passphrase", passphrase, "--import");
    }

    /** Decrypts (and verifies) an OpenPGP message; the caller judges exit code and status lines. */
    Result decrypt(byte[] message, String passphrase) {
        return run(message, "--passphrase", passphrase, "--decrypt");
    }

    /** Verifies a detached signature over a file; the caller judges exit code and status lines. */
    Result verifyDetached(Path signature, Path data) {
        return run(null, "--verify", signature.toString(), data.toString());
    }

    /** Key IDs of the public-key encrypted session key packets (the recipients a message names), upper case. */
    Set<String> recipientKeyIds(byte[] message) {
        // --list-packets needs no secret key: it reads the PKESK headers; exit status 2 without a secret key is fine
        Result r = run(message, "--list-only", "--list-packets");
        String dump = new String(r.stdout(), StandardCharsets.UTF_8);
        Set<String> ids = new LinkedHashSet<>();
        Matcher m = PKESK_KEYID.matcher(dump);
        while (m.find()) {
            ids.add(m.group(1).toUpperCase(Locale.ROOT));
        }
        if (ids.isEmpty()) {
            throw new AssertionError("no PKESK packet in the message: " + dump + "\n" + r.describe());
        }
        return ids;
    }

    @Override
    public void close() {
        try {
            new ProcessBuilder("gpgconf", "--homedir", home.toString(), "--kill", "all")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                    .waitFor(10, TimeUnit.SECONDS);
            try (Stream<Path> w = Files.walk(home)) {
                w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
