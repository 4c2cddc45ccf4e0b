package org.mailproxy.smtp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.smtp.codec.SmtpCommandDecoder;
import org.mailproxy.smtp.codec.SmtpReplyEncoder;
import org.mailproxy.smtp.transform.IdentityTransform;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Local authentication on the SMTP side: the client's AUTH is the proxy's own exchange, checked against the local
 * password before anything reaches the provider; the provider then sees the stored login.
 */
class SmtpLocalAuthTest {
    static final char[] PASS = "key passphrase".toCharArray();
    static final String EMAIL = "alice@example.com";

    @TempDir
    static Path dir;
    static AccountKeys unlocked;
    static AccountKeys locked;
    static String localPassword;

    private FakeSmtpServer upstream;
    private ProxyFixture proxy;

    @BeforeAll
    static void keys() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Keyring ring = Keyring.open(data.resolve("keys"));
        KeyInfo alice = ring.generate(EMAIL, PASS, KeyVersion.V4);
        unlocked = AccountKeys.open(data.resolve("keys"), Map.of(EMAIL, Optional.of(alice.fingerprint())));
        unlocked.unlock(EMAIL, PassphraseSource.ofChars(PASS.clone()));
        locked = AccountKeys.open(data.resolve("keys"), Map.of(EMAIL, Optional.of(alice.fingerprint())));
        AccountSecrets secrets = AccountSecrets.open(data);
        localPassword = secrets.localPassword(EMAIL);
        // FakeSmtpServer accepts alice / secret
        secrets.storeProviderLogin(EMAIL, new ProviderLogin("alice", "secret".getBytes(StandardCharsets.UTF_8)), ring,
                alice.fingerprint());
    }

    @AfterAll
    static void close() {
        unlocked.close();
        locked.close();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void start(AccountKeys keys, FakeSmtpServer.Options options) throws Exception {
        upstream = new FakeSmtpServer(options);
        proxy = new ProxyFixture(dir, ProxyFixture.one("alice", upstream.url()), "local-auth = always",
                TestPki.TRUSTED_PEM, IdentityTransform.INSTANCE, keys);
    }

    @Test
    void authPlainWithTheLocalPasswordSendsMailAsTheStoredLogin() throws Exception {
        start(unlocked, new FakeSmtpServer.Options());
        try (TestClient c = new TestClient(proxy.port())) {
            assertThat(c.reply()).startsWith("220 ");
            String ehlo = c.cmd("EHLO client.example");
            assertThat(ehlo).contains("AUTH PLAIN LOGIN").doesNotContain("XOAUTH2");
            assertThat(c.cmd("MAIL FROM:<alice@example.com>")).startsWith("530 5.7.0");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice@example.com", localPassword))).startsWith("235 ");
            assertThat(c.cmd("MAIL FROM:<alice@example.com>")).startsWith("250");
            assertThat(c.cmd("RCPT TO:<bob@example.org>")).startsWith("250");
            assertThat(c.cmd("DATA")).startsWith("354");
            assertThat(c.cmd("Subject: hi\r\n\r\nhello\r\n.")).startsWith("250");
        }
        assertThat(upstream.events).contains("auth alice over TLS");
        assertThat(upstream.commands).noneMatch(l -> l.contains(TestClient.b64(localPassword)))
                .noneMatch(l -> l.contains(TestClient.plain("alice@example.com", localPassword)));
        assertThat(upstream.messages).hasSize(1);
    }

    @Test
    void authLoginInTwoStepsWorksToo() throws Exception {
        FakeSmtpServer.Options options = new FakeSmtpServer.Options();
        start(unlocked, options);
        try (TestClient c = new TestClient(proxy.port())) {
            c.reply();
            c.cmd("EHLO client.example");
            assertThat(c.cmd("AUTH LOGIN")).isEqualTo("334 VXNlcm5hbWU6");
            assertThat(c.cmd(TestClient.b64("alice"))).isEqualTo("334 UGFzc3dvcmQ6");
            assertThat(c.cmd(TestClient.b64(localPassword))).startsWith("235 ");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", localPassword))).startsWith("503");
        }
    }

    @Test
    void wrongLocalPasswordsNeverReachTheProviderAndTheThirdClosesTheSession() throws Exception {
        start(unlocked, new FakeSmtpServer.Options());
        try (TestClient c = new TestClient(proxy.port())) {
            c.reply();
            c.cmd("EHLO client.example");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", "secret"))).as("the provider's password")
                    .startsWith("535 5.7.8");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("bob", localPassword))).as("no such account")
                    .startsWith("535 5.7.8");
            assertThat(c.cmd("AUTH XOAUTH2 " + TestClient.b64("user=alice\u0001auth=Bearer x\u0001\u0001")))
                    .startsWith("504");
            assertThat(c.cmd("RSET")).startsWith("250");
            assertThat(c.cmd("NOOP")).startsWith("250");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", localPassword + "x"))).startsWith("421 4.7.0");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstream.commands).isEmpty();
        assertThat(upstream.events).noneMatch(e -> e.startsWith("auth"));
        assertThat(proxy.counter("mailproxy.auth.failures", "protocol", "smtp")).isEqualTo(3);
    }

    @Test
    void aLockedKeyIsATemporaryFailureNamingTheFix() throws Exception {
        start(locked, new FakeSmtpServer.Options());
        try (TestClient c = new TestClient(proxy.port())) {
            c.reply();
            c.cmd("EHLO client.example");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", localPassword))).startsWith("454 4.7.0")
                    .contains("mailproxy keys unlock alice@example.com");
        }
        assertThat(upstream.commands).isEmpty();
    }

    @Test
    void theProviderRefusingTheStoredLoginIsATemporaryFailureNotAWrongPassword() throws Exception {
        FakeSmtpServer.Options options = new FakeSmtpServer.Options();
        options.users = Map.of("alice", "changed-at-the-provider");
        start(unlocked, options);
        try (TestClient c = new TestClient(proxy.port())) {
            c.reply();
            c.cmd("EHLO client.example");
            assertThat(c.cmd("AUTH PLAIN " + TestClient.plain("alice", localPassword))).startsWith("454 4.7.0")
                    .contains("stored login");
        }
    }

    @Test
    void aClientNotOnLoopbackMustStartTlsBeforeItSendsThePassword() throws Exception {
        start(unlocked, new FakeSmtpServer.Options());
        SmtpCommandDecoder decoder = new SmtpCommandDecoder(4096);
        SessionSettings settings = new SessionSettings(proxy.config, proxy.context.localTls(), null,
                IdentityTransform.INSTANCE, ProxyMetrics.noop("smtp"), new SessionSettings.SessionRegistry() {
                    @Override
                    public void opened(SmtpSession session) {
                    }

                    @Override
                    public void closed(SmtpSession session) {
                    }
                }, proxy.context.localAuth());
        // EmbeddedChannel's peer is no loopback address: as a client on another machine would be.
        EmbeddedChannel ch = new EmbeddedChannel(decoder, SmtpReplyEncoder.INSTANCE, new SmtpSession(settings, decoder, "t1"));
        assertThat(read(ch)).startsWith("220 ");
        ch.writeInbound(Unpooled.copiedBuffer("EHLO client.example\r\n", StandardCharsets.US_ASCII));
        assertThat(read(ch)).doesNotContain("AUTH");
        ch.writeInbound(Unpooled.copiedBuffer("AUTH PLAIN " + TestClient.plain("alice", localPassword) + "\r\n",
                StandardCharsets.US_ASCII));
        assertThat(read(ch)).startsWith("530 5.7.0 Must issue a STARTTLS command first");
        ch.finishAndReleaseAll();
        assertThat(upstream.commands).isEmpty();
    }

    private static String read(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            if (o instanceof ByteBuf b) {
                sb.append(b.toString(StandardCharsets.US_ASCII));
                b.release();
            } else {
                sb.append(o);
            }
        }
        return sb.toString();
    }
}
