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

/**
 * The command line's contract: exit codes (0 ok, 1 failure, 2 usage or configuration) and configuration errors as
 * exactly one line naming file, line and key, without a stack trace.
 */
class CliTest {

    @TempDir
    Path tmp;

    private Path conf(String body) throws Exception {
        return TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n  data-dir = " + q(tmp.resolve("data")) + "\n" + body + "}\n");
    }

    private TestFiles.Run check(Path file) {
        return mailproxy(Map.of(), tmp, "check", "--config", file.toString());
    }

    @Test
    void versionPrintsTheProjectVersion() {
        TestFiles.Run r = mailproxy(Map.of(), tmp, "version");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).matches("mailproxy \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(Java .*\\)\\R");
        assertThat(mailproxy(Map.of(), tmp, "--version").out()).startsWith("mailproxy " + Version.current());
    }

    @Test
    void usageErrorsExitWithTwo() {
        TestFiles.Run none = mailproxy(Map.of(), tmp);
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("Usage: mailproxy").contains("run").contains("check").contains("demo");
        assertThat(mailproxy(Map.of(), tmp, "frobnicate").exitCode()).isEqualTo(2);
        assertThat(mailproxy(Map.of(), tmp, "run", "--no-such-option").exitCode()).isEqualTo(2);
        assertThat(mailproxy(Map.of(), tmp, "check", "--config").exitCode()).isEqualTo(2);
    }

    @Test
    void anUnknownKeyIsOneLineWithFileLineAndKey() throws Exception {
        Path file = conf("  imap {\n    lisen = \"127.0.0.1:1143\"\n  }\n");
        for (String command : new String[]{"check", "run"}) {
            TestFiles.Run r = mailproxy(Map.of(), tmp, command, "--config", file.toString());
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("mailproxy.conf:4: mailproxy.imap.lisen: unknown setting (did you mean \"listen\"?)"
                    + System.lineSeparator());
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void aBadUpstreamUrlIsOneLineWithFileLineAndKey() throws Exception {
        Path file = conf("  accounts = [\n"
                + "    { email = \"alice@example.com\"\n"
                + "      imap.upstream = \"imap://imap.example.com\"\n"
                + "      smtp.upstream = \"smtps://smtp.example.com\" }\n"
                + "  ]\n");
        TestFiles.Run r = check(file);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).startsWith("mailproxy.conf:5: mailproxy.accounts[0].imap.upstream: \"imap://\" would send mail and passwords in the clear")
                .doesNotContain("\tat ").hasLineCount(1);
    }

    @Test
    void aBadListenAddressIsOneLineWithFileLineAndKey() throws Exception {
        TestFiles.Run r = check(conf("  smtp.listen = \"127.0.0.1:99999\"\n"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("mailproxy.conf:3: mailproxy.smtp.listen: port 99999 is out of range" + System.lineSeparator());
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = tmp.resolve("nope.conf");
        TestFiles.Run r = mailproxy(Map.of(), tmp, "run", "--config", missing.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).isEqualTo(missing + ": no such configuration file" + System.lineSeparator());
    }

    @Test
    void aMissingCaFileNamesTheKey() throws Exception {
        TestFiles.Run r = check(conf("  tls.trusted-ca-file = " + q(tmp.resolve("ca.pem")) + "\n"));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).startsWith("mailproxy.conf:3: mailproxy.tls.trusted-ca-file: file " + tmp.resolve("ca.pem"));
    }

    @Test
    void theConfigFileComesFromTheEnvironmentOrTheHomeDirectory() throws Exception {
        Path file = conf("");
        TestFiles.Run fromEnv = mailproxy(Map.of("MAILPROXY_CONFIG", file.toString()), tmp, "check");
        assertThat(fromEnv.out()).startsWith("configuration " + file + ": OK, 0 account(s)");
        assertThat(fromEnv.err()).contains("no accounts configured");
        assertThat(fromEnv.exitCode()).isEqualTo(1);

        TestFiles.Run fromHome = mailproxy(Map.of(), tmp, "check");
        assertThat(fromHome.exitCode()).isEqualTo(2);
        assertThat(fromHome.err()).startsWith(tmp.resolve(".config/mailproxy/mailproxy.conf") + ": no such configuration file");
    }

    @Test
    void environmentOverridesApplyTheTypesafeWay() throws Exception {
        Path file = conf("");
        TestFiles.Run r = mailproxy(Map.of("CONFIG_FORCE_mailproxy_smtp_listen", "127.0.0.1:70000"), tmp,
                "check", "--config", file.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        // The message names the environment as the source (the config module decides the exact prefix).
        assertThat(r.err()).startsWith("environment").contains("mailproxy.smtp.listen: port 70000 is out of range").hasLineCount(1);
    }

    @Test
    void aPasswordFileOthersCanReadIsRefused() throws Exception {
        Path file = conf("  accounts = [ { email = \"a@example.com\", imap.upstream = \"imaps://127.0.0.1:1\","
                + " smtp.upstream = \"smtps://127.0.0.1:1\" } ]\n");
        Path password = Files.writeString(tmp.resolve("pw"), "secret\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
        TestFiles.Run r = mailproxy(Map.of(), tmp, "check", "--config", file.toString(), "--password-file", password.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).isEqualTo(password + ": the password file is readable by other users; fix it with: chmod 600 "
                + password + System.lineSeparator());
        assertThat(r.out() + r.err()).doesNotContain("secret");
    }

    @Test
    void passwordFileTakesTheFirstLineOnly() throws Exception {
        Path password = Files.writeString(tmp.resolve("pw"), "pä ss\r\nsecond line\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
        assertThat(new String(CheckCommand.readPasswordFile(password))).isEqualTo("pä ss");
    }

    @Test
    void loginWithoutATerminalAsksForAPasswordFile() throws Exception {
        Path file = conf("  accounts = [ { email = \"a@example.com\", imap.upstream = \"imaps://127.0.0.1:1\","
                + " smtp.upstream = \"smtps://127.0.0.1:1\" } ]\n");
        TestFiles.Run r = mailproxy(Map.of(), tmp, "check", "--config", file.toString(), "--login");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--login needs a terminal");
    }

    @Test
    void anExposedDataDirFailsTheCheck() throws Exception {
        Path file = conf("  accounts = [ { email = \"a@example.com\", imap.upstream = \"imaps://127.0.0.1:1\","
                + " smtp.upstream = \"smtps://127.0.0.1:1\" } ]\n");
        Path data = Files.createDirectory(tmp.resolve("data"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestFiles.Run r = check(file);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("data-dir FAILED  mailproxy.conf:2: mailproxy.data-dir: " + data + " is accessible")
                .contains("check FAILED");
    }
}
