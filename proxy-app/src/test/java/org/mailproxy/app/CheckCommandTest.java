package org.mailproxy.app;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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
 * {@code mailproxy check} against a real IMAPS/SMTPS server (GreenMail on loopback): each failure a user meets says
 * which it is, and the password given for the check never shows up in what it prints.
 */
class CheckCommandTest {

    private static final String ADDRESS = "carol@check.test";
    private static final String PASSWORD = "right-horse-battery";

    @TempDir
    Path tmp;

    private static EmbeddedUpstream upstream;

    @BeforeAll
    static void startUpstream() throws Exception {
        upstream = EmbeddedUpstream.start(Map.of(ADDRESS, PASSWORD));
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    private Path conf(String imapUrl, String smtpUrl, boolean trustUpstream) throws Exception {
        return TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(tmp.resolve("data")) + "\n"
                + (trustUpstream ? "  tls.trusted-ca-file = " + q(upstream.caCertificate()) + "\n" : "")
                + "  imap.timeouts.upstream-connect = 5s\n"
                + "  smtp.timeouts.upstream-connect = 5s\n"
                + "  accounts = [ { email = " + q(ADDRESS) + ", imap.upstream = " + q(imapUrl)
                + ", smtp.upstream = " + q(smtpUrl) + " } ]\n"
                + "}\n");
    }

    private Path passwordFile(String password) throws Exception {
        Path file = Files.writeString(tmp.resolve("password"), password + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private TestFiles.Run check(Path conf, String... more) {
        String[] args = new String[3 + more.length];
        args[0] = "check";
        args[1] = "--config";
        args[2] = conf.toString();
        System.arraycopy(more, 0, args, 3, more.length);
        return mailproxy(Map.of(), tmp, args);
    }

    @Test
    void aReachableTrustedUpstreamIsOkWithItsCapabilities() throws Exception {
        TestFiles.Run r = check(conf(upstream.imapUrl(), upstream.smtpUrl(), true), "--password-file", passwordFile(PASSWORD).toString());
        assertThat(r.out()).contains(ADDRESS + "  IMAP  " + upstream.imapUrl() + "  OK")
                .contains(ADDRESS + "  SMTP  " + upstream.smtpUrl() + "  OK")
                .contains("IMAP4rev1")
                .endsWith("check OK" + System.lineSeparator());
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void aRefusedConnectionSaysSo() throws Exception {
        int closed = TestFiles.freePort();
        TestFiles.Run r = check(conf("imaps://localhost:" + closed, "smtps://localhost:" + closed, true));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains(ADDRESS + "  IMAP  imaps://localhost:" + closed + "  FAILED  connection refused")
                .contains(ADDRESS + "  SMTP  smtps://localhost:" + closed + "  FAILED  connection refused")
                .contains("check FAILED");
    }

    @Test
    void anUntrustedCertificateSaysSo() throws Exception {
        TestFiles.Run r = check(conf(upstream.imapUrl(), upstream.smtpUrl(), false));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains(ADDRESS + "  IMAP  " + upstream.imapUrl() + "  FAILED  certificate not trusted")
                .contains(ADDRESS + "  SMTP  " + upstream.smtpUrl() + "  FAILED  certificate not trusted");
    }

    @Test
    void aWrongPasswordSaysSoAndIsNotPrinted() throws Exception {
        TestFiles.Run r = check(conf(upstream.imapUrl(), upstream.smtpUrl(), true),
                "--password-file", passwordFile("wrong-pony-staple").toString());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains(ADDRESS + "  IMAP  " + upstream.imapUrl() + "  FAILED  login refused")
                .contains(ADDRESS + "  SMTP  " + upstream.smtpUrl() + "  FAILED  login refused");
        assertThat(r.out() + r.err()).doesNotContain("wrong-pony-staple");
    }

    @Test
    void aMissingStartTlsSaysSoBeforeAnyPasswordIsSent() throws Exception {
        try (PlainTextServer imap = PlainTextServer.imapWithoutStartTls();
             PlainTextServer smtp = PlainTextServer.smtpWithoutStartTls()) {
            TestFiles.Run r = check(conf("imap+starttls://localhost:" + imap.port(), "smtp+starttls://localhost:" + smtp.port(), true),
                    "--password-file", passwordFile(PASSWORD).toString());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.out()).contains(ADDRESS + "  IMAP  imap+starttls://localhost:" + imap.port() + "  FAILED  STARTTLS not offered")
                    .contains(ADDRESS + "  SMTP  smtp+starttls://localhost:" + smtp.port() + "  FAILED  STARTTLS not offered");
            // Nothing that carries the password went out in the clear (SECURITY.md 9).
            assertThat(imap.received).noneMatch(l -> l.toUpperCase().matches("\\S+ (LOGIN|AUTHENTICATE).*"));
            assertThat(smtp.received).noneMatch(l -> l.toUpperCase().startsWith("AUTH"));
            assertThat(String.join("\n", imap.received) + String.join("\n", smtp.received)).doesNotContain(PASSWORD);
        }
    }

    @Test
    void loginAsksThePasswordOnTheTerminalPerAccount() throws Exception {
        java.util.List<String> prompts = new java.util.ArrayList<>();
        TestFiles.Run r = mailproxy(Map.of(), tmp, prompt -> {
            prompts.add(prompt);
            return PASSWORD.toCharArray();
        }, "check", "--config", conf(upstream.imapUrl(), upstream.smtpUrl(), true).toString(), "--login", ADDRESS);
        assertThat(prompts).containsExactly("Password for " + ADDRESS + " (login " + ADDRESS + "): ");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("IMAP  " + upstream.imapUrl() + "  OK").contains("SMTP  " + upstream.smtpUrl() + "  OK");
    }

    @Test
    void anAccountThatIsNotConfiguredIsAUsageError() throws Exception {
        TestFiles.Run r = check(conf(upstream.imapUrl(), upstream.smtpUrl(), true), "nobody@example.com");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no account matches nobody@example.com");
    }
}
