package org.mailproxy.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.e2e.RunningProxy.Local;
import org.mailproxy.e2e.RunningProxy.Upstream;
import org.mailproxy.testing.MailStack;
import org.mailproxy.testing.MailUser;
import org.mailproxy.testing.RequiresMailStack;
import org.mailproxy.testing.StoredMessage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * swaks and msmtp submit alice's mail to bob through the proxy's SMTP port with AUTH PLAIN and AUTH LOGIN, plain,
 * with STARTTLS and with implicit TLS to the proxy, over both upstream TLS modes. Dovecot's copy must end with
 * exactly the octets the client sent (Postfix only puts trace headers on top); the 8-bit body has a line that
 * starts with a dot, so stuffing and unstuffing are checked on the way.
 */
@RequiresMailStack
class SmtpClientsE2eTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static void assertArrived(MailStack stack, String marker, byte[] sent) {
        StoredMessage got = Mailboxes.awaitDelivered(stack, stack.bob(), marker);
        assertThat(got.content()).as("Dovecot's copy ends with what the client sent").endsWith(sent);
        assertThat(got.header("Received")).as("Postfix's trace header").isNotNull();
    }

    // ---- swaks

    private void swaks(MailStack stack, Local local, Upstream upstream, String mechanism) {
        Tool swaks = Tool.require("swaks");
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.eightBit(alice.email(), stack.bob().email(), marker);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            List<String> args = new ArrayList<>(List.of(
                    "--server", "127.0.0.1", "--port", Integer.toString(proxy.smtpPort()),
                    "--ehlo", "client.example.test",
                    "--from", alice.email(), "--to", stack.bob().email(),
                    "--auth", mechanism, "--auth-user", alice.login(), "--auth-password", alice.password(),
                    "--data", "-",
                    "--timeout", "30"));
            if (local == Local.STARTTLS) {
                args.add("-tls");
            } else if (local == Local.IMPLICIT) {
                args.add("-tlsc");
            }
            // swaks ends the data with its own CRLF before the dot: give it the message without its last one.
            byte[] stdin = Arrays.copyOf(message, message.length - 2);
            Tool.Result r = swaks.run(dir, TIMEOUT, args, stdin, Map.of());
            assertThat(r.exit()).as(r.describe() + "\n" + r.out()).isZero();
            // "<-" is a reply in the clear, "<~" one over TLS.
            String tlsMark = local == Local.OFF ? "<-" : "<~";
            assertThat(r.out()).contains(tlsMark + "  235 ").contains(tlsMark + "  250 2.0.0");
        }
        assertArrived(stack, marker, message);
    }

    @Test
    void swaksAuthPlainInTheClear(MailStack stack) {
        swaks(stack, Local.OFF, Upstream.IMPLICIT, "PLAIN");
    }

    @Test
    void swaksAuthLoginWithStarttls(MailStack stack) {
        swaks(stack, Local.STARTTLS, Upstream.STARTTLS, "LOGIN");
    }

    @Test
    void swaksAuthPlainWithImplicitTls(MailStack stack) {
        swaks(stack, Local.IMPLICIT, Upstream.IMPLICIT, "PLAIN");
    }

    // ---- msmtp

    private void msmtp(MailStack stack, Local local, Upstream upstream, String mechanism) throws IOException {
        Tool msmtp = Tool.require("msmtp");
        MailUser alice = stack.alice();
        String marker = UUID.randomUUID().toString();
        byte[] message = TestMessages.eightBit(alice.email(), stack.bob().email(), marker);
        try (RunningProxy proxy = RunningProxy.start(stack, dir, local, upstream)) {
            String tls = switch (local) {
                case OFF -> "tls off\n";
                case STARTTLS -> "tls on\ntls_starttls on\ntls_trust_file " + proxy.localCert() + "\n";
                case IMPLICIT -> "tls on\ntls_starttls off\ntls_trust_file " + proxy.localCert() + "\n";
            };
            Path rc = dir.resolve("msmtprc");
            Files.writeString(rc, "account proxy\n"
                    + "host 127.0.0.1\n"
                    + "port " + proxy.smtpPort() + "\n"
                    + "domain client.example.test\n"
                    + "from " + alice.email() + "\n"
                    + "auth " + mechanism + "\n"
                    + "user " + alice.login() + "\n"
                    + "password " + alice.password() + "\n"
                    + tls
                    + "timeout 30\n");
            // msmtp refuses a password in a file others can read.
            Files.setPosixFilePermissions(rc, PosixFilePermissions.fromString("rw-------"));
            Tool.Result r = msmtp.run(dir, TIMEOUT,
                    List.of("-C", rc.toString(), "-a", "proxy", "--", stack.bob().email()), message, Map.of());
            assertThat(r.exit()).as(r.describe()).isZero();
        }
        assertArrived(stack, marker, message);
    }

    @Test
    void msmtpAuthPlainWithStarttls(MailStack stack) throws IOException {
        msmtp(stack, Local.STARTTLS, Upstream.IMPLICIT, "plain");
    }

    @Test
    void msmtpAuthLoginWithImplicitTls(MailStack stack) throws IOException {
        msmtp(stack, Local.IMPLICIT, Upstream.STARTTLS, "login");
    }
}
