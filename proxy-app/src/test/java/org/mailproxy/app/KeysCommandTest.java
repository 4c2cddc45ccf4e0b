package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.TestFiles.mailproxy;
import static org.mailproxy.app.TestFiles.q;

/** {@code mailproxy keys}: generate, list, export, import into another data directory, delete; passphrase handling. */
class KeysCommandTest {

    @TempDir
    Path tmp;

    private Path conf(String name) throws Exception {
        return TestFiles.write(tmp, name + ".conf", "mailproxy.data-dir = " + q(tmp.resolve(name)) + "\n");
    }

    private Path passphraseFile() throws Exception {
        Path f = tmp.resolve("pass");
        Files.writeString(f, "correct horse battery staple\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    @Test
    void generateListExportImportDelete() throws Exception {
        Path a = conf("a");
        TestFiles.Run gen = mailproxy(Map.of(), tmp, "keys", "generate", "--email", "alice@example.test",
                "--passphrase-file", passphraseFile().toString(), "--config", a.toString());
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        String fpr = gen.out().substring(0, gen.out().indexOf(' '));
        assertThat(fpr).matches("[0-9A-F]{40}");
        assertThat(gen.out()).contains("v4  sec").contains("alice@example.test");

        TestFiles.Run list = mailproxy(Map.of(), tmp, "keys", "list", "--config", a.toString());
        assertThat(list.out()).startsWith(fpr).contains("sec");
        assertThat(Files.getPosixFilePermissions(tmp.resolve("a/keys"))).isEqualTo(PosixFilePermissions.fromString("rwx------"));

        TestFiles.Run export = mailproxy(Map.of(), tmp, "keys", "export", "alice@example.test", "--config", a.toString());
        assertThat(export.exitCode()).isZero();
        assertThat(export.out()).startsWith("-----BEGIN PGP PUBLIC KEY BLOCK-----");
        Path cert = TestFiles.write(tmp, "alice.asc", export.out());

        Path b = conf("b");
        TestFiles.Run imp = mailproxy(Map.of(), tmp, "keys", "import", cert.toString(), "--config", b.toString());
        assertThat(imp.exitCode()).as(imp.err()).isZero();
        assertThat(imp.out()).startsWith("imported " + fpr).contains("pub");
        assertThat(tmp.resolve("b/keys/certs/" + fpr + ".pgp")).exists();

        TestFiles.Run secret = mailproxy(Map.of(), tmp, "keys", "export", fpr, "--secret", "--config", a.toString());
        assertThat(secret.out()).startsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----");

        assertThat(mailproxy(Map.of(), tmp, "keys", "delete", fpr, "--config", b.toString()).exitCode()).isZero();
        assertThat(mailproxy(Map.of(), tmp, "keys", "list", "--config", b.toString()).out()).isEmpty();
        assertThat(mailproxy(Map.of(), tmp, "keys", "delete", fpr, "--config", b.toString()).exitCode()).isEqualTo(1);
    }

    @Test
    void generateExpiresWhenAskedDefaultThreeYearsOrNever() throws Exception {
        Path a = conf("a");
        String pass = passphraseFile().toString();
        java.time.LocalDate today = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
        for (String[] c : new String[][]{{"2y", today.plusYears(2).toString()}, {"18m", today.plusMonths(18).toString()},
                {"365d", today.plusDays(365).toString()}, {null, today.plusYears(3).toString()}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("keys", "generate", "--email",
                    "x@example.test", "--passphrase-file", pass, "--config", a.toString()));
            if (c[0] != null) {
                args.addAll(java.util.List.of("--expires", c[0]));
            }
            TestFiles.Run gen = mailproxy(Map.of(), tmp, args.toArray(String[]::new));
            assertThat(gen.exitCode()).as(gen.err()).isZero();
            // created today (UTC) and expiring on the asked day; a run across midnight would see the next day
            assertThat(gen.out()).as(c[0]).contains("created " + today + "  expires " + c[1]);
        }
        TestFiles.Run never = mailproxy(Map.of(), tmp, "keys", "generate", "--email", "n@example.test",
                "--passphrase-file", pass, "--expires", "never", "--config", a.toString());
        assertThat(never.exitCode()).isZero();
        assertThat(never.out()).doesNotContain("expires");
        TestFiles.Run bad = mailproxy(Map.of(), tmp, "keys", "generate", "--email", "b@example.test",
                "--passphrase-file", pass, "--expires", "soon", "--config", a.toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--expires soon: expected <n>y, <n>m, <n>w, <n>d or never");
    }

    @Test
    void passphraseNeverFromArgvAndNeedsATerminalOrFile() throws Exception {
        Path a = conf("a");
        assertThat(mailproxy(Map.of(), tmp, "keys", "generate", "--email", "x@example.test", "--passphrase", "p",
                "--config", a.toString()).exitCode()).isEqualTo(2);
        TestFiles.Run noTerminal = mailproxy(Map.of(), tmp, "keys", "generate", "--email", "x@example.test",
                "--config", a.toString());
        assertThat(noTerminal.exitCode()).isEqualTo(2);
        assertThat(noTerminal.err()).contains("--passphrase-file");

        String[] answers = {"one", "two"};
        int[] i = {0};
        TestFiles.Run differ = mailproxy(Map.of(), tmp, p -> answers[i[0]++].toCharArray(), "keys", "generate",
                "--email", "x@example.test", "--config", a.toString());
        assertThat(differ.exitCode()).isEqualTo(2);
        assertThat(differ.err()).contains("differ");

        TestFiles.Run typed = mailproxy(Map.of(), tmp, p -> "same".toCharArray(), "keys", "generate",
                "--email", "x@example.test", "--config", a.toString());
        assertThat(typed.exitCode()).as(typed.err()).isZero();
    }

    @Test
    void aPassphraseFileOthersCanReadIsRefused() throws Exception {
        Path f = passphraseFile();
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        TestFiles.Run r = mailproxy(Map.of(), tmp, "keys", "generate", "--email", "x@example.test",
                "--passphrase-file", f.toString(), "--config", conf("a").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("readable by other users");
    }

    @Test
    void keysReadableByOthersStopTheCommand() throws Exception {
        Path a = conf("a");
        assertThat(mailproxy(Map.of(), tmp, "keys", "generate", "--email", "x@example.test",
                "--passphrase-file", passphraseFile().toString(), "--config", a.toString()).exitCode()).isZero();
        Files.setPosixFilePermissions(tmp.resolve("a/keys"), PosixFilePermissions.fromString("rwxr-xr-x"));
        TestFiles.Run r = mailproxy(Map.of(), tmp, "keys", "list", "--config", a.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("keys");
    }
}
