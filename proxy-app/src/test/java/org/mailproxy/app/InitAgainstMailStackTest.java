package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.app.setup.AutoconfigServer;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mailproxy init} run unattended against the real test provider (Dovecot and Postfix on loopback), then
 * {@code mailproxy check} on the file it wrote: the first run as the README describes it.
 */
@RequiresMailStack
class InitAgainstMailStackTest {

    @TempDir
    Path tmp;

    private Path ownerOnly(String name, String text) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private TestFiles.Run check(Path conf, MailUser user) throws Exception {
        return TestFiles.mailproxy(Map.of(), tmp, "check", "--config", conf.toString(),
                "--password-file", ownerOnly("provider-password", user.password() + "\n").toString());
    }

    @Test
    void initFromFlagsThenCheckPasses(MailStack stack) throws Exception {
        MailUser alice = stack.alice();
        Path conf = tmp.resolve("mailproxy.conf");
        TestFiles.Run init = TestFiles.mailproxy(Map.of(), tmp, "init", "--non-interactive", "--config", conf.toString(),
                "--data-dir", tmp.resolve("data").toString(), "--email", alice.email(), "--login", alice.login(),
                "--imap", "imaps://" + stack.host() + ":" + stack.imapsPort(),
                "--smtp", "smtp+starttls://" + stack.host() + ":" + stack.submissionPort(),
                "--no-discover", "--generate-key", "--passphrase-file", ownerOnly("passphrase", "test passphrase\n").toString(),
                "--trusted-ca-file", stack.caCertFile().toString());
        assertThat(init.err()).isEmpty();
        assertThat(init.exitCode()).isZero();

        TestFiles.Run check = check(conf, alice);
        assertThat(check.out()).contains(alice.email() + "  IMAP  imaps://localhost:" + stack.imapsPort() + "  OK")
                .contains(alice.email() + "  SMTP  smtp+starttls://localhost:" + stack.submissionPort() + "  OK")
                .contains("check OK");
        assertThat(check.exitCode()).isZero();
    }

    @Test
    void discoveredSettingsBeyondLoopbackAlsoPassTheCheck(MailStack stack) throws Exception {
        MailUser bob = stack.bob();
        try (AutoconfigServer web = AutoconfigServer.start(tmp)) {
            web.serve("/" + stack.domain() + "/mail/config-v1.1.xml", "<clientConfig version=\"1.1\"><emailProvider id=\"x\">"
                    + "<incomingServer type=\"imap\"><hostname>" + stack.host() + "</hostname><port>" + stack.imapsPort()
                    + "</port><socketType>SSL</socketType><username>" + bob.login() + "</username></incomingServer>"
                    + "<outgoingServer type=\"smtp\"><hostname>" + stack.host() + "</hostname><port>"
                    + stack.submissionsPort() + "</port><socketType>SSL</socketType><username>" + bob.login()
                    + "</username></outgoingServer></emailProvider></clientConfig>");
            Path conf = tmp.resolve("mailproxy.conf");
            int dnsPort = TestFiles.freePort();
            TestFiles.Run init = TestFiles.mailproxy(Map.of(), tmp, "init", "--non-interactive", "--config", conf.toString(),
                    "--data-dir", tmp.resolve("data").toString(), "--email", bob.email(),
                    "--autoconfig-url", web.base() + "/{domain}/mail/config-v1.1.xml",
                    "--autoconfig-ca", web.certificate().toString(), "--dns-server", "127.0.0.1:" + dnsPort,
                    "--generate-key", "--passphrase-file", ownerOnly("passphrase", "test passphrase\n").toString(),
                    "--listen", "0.0.0.0", "--provider-password-file", ownerOnly("pw", bob.password() + "\n").toString(),
                    "--trusted-ca-file", stack.caCertFile().toString());
            assertThat(init.err()).isEmpty();
            assertThat(init.exitCode()).isZero();
            assertThat(init.out()).contains("IMAP: imaps://localhost:" + stack.imapsPort())
                    .doesNotContain(bob.password());
            assertThat(Files.readString(conf)).contains("allow-remote-clients = true");

            TestFiles.Run check = check(conf, bob);
            assertThat(check.out()).contains("check OK");
            assertThat(check.exitCode()).isZero();
        }
    }
}
