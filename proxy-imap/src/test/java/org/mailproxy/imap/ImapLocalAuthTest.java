package org.mailproxy.imap;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.imap.codec.ImapCommandDecoder;
import org.mailproxy.imap.codec.ImapWireEncoder;
import org.mailproxy.imap.session.ImapSession;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Local authentication on the IMAP side: with {@code local-auth} in force the client logs in with the account's local
 * password, nothing reaches the provider before that succeeded, and the provider sees the stored login instead.
 */
class ImapLocalAuthTest {
    static final char[] PASS = "key passphrase".toCharArray();
    static final String EMAIL = "alice@example.com";

    @TempDir
    static Path dir;
    static AccountKeys unlocked;
    static AccountKeys locked;
    static String localPassword;

    private FakeImapServer upstream;
    private ImapProxyFixture proxy;

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
        // FakeImapServer accepts alice / s3cret
        secrets.storeProviderLogin(EMAIL, new ProviderLogin("alice", "s3cret".getBytes(StandardCharsets.UTF_8)), ring,
                alice.fingerprint());
    }

    @AfterAll
    static void close() {
        unlocked.close();
        locked.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        upstream = new FakeImapServer();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        upstream.close();
    }

    private ImapProxyFixture start(AccountKeys keys) throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "local-auth = always",
                TestCertificates.TRUSTED_PEM, keys);
        return proxy;
    }

    private double upstreamConnects() {
        var t = proxy.meters.find("mailproxy.upstream.connect").timer();
        return t == null ? 0 : t.count();
    }

    @Test
    void theLocalPasswordLogsInAndTheProviderSeesOnlyTheStoredLogin() throws Exception {
        start(unlocked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            String greeting = c.readResponse();
            assertThat(greeting).contains(" AUTH=PLAIN").doesNotContain("XOAUTH2", "OAUTHBEARER", "LOGINDISABLED");
            assertThat(c.command("a1", "LOGIN alice@example.com " + localPassword)).last().asString()
                    .startsWith("a1 OK");
            assertThat(c.command("a2", "SELECT INBOX")).last().asString().startsWith("a2 OK");
        }
        assertThat(upstream.received).anyMatch(l -> l.endsWith("LOGIN \"alice\" \"s3cret\""))
                .noneMatch(l -> l.contains(localPassword));
    }

    @Test
    void authenticatePlainCarriesTheLocalPasswordAndTokensAreRefused() throws Exception {
        start(unlocked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            String token = Base64.getEncoder().encodeToString("user=alice\u0001auth=Bearer x\u0001\u0001"
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(c.command("a0", "AUTHENTICATE XOAUTH2 " + token)).last().asString().startsWith("a0 NO");
            String plain = Base64.getEncoder().encodeToString(("\0alice\0" + localPassword).getBytes(StandardCharsets.UTF_8));
            assertThat(c.command("a1", "AUTHENTICATE PLAIN " + plain)).last().asString().startsWith("a1 OK");
        }
        assertThat(upstream.received).noneMatch(l -> l.contains(localPassword)).noneMatch(l -> l.contains("XOAUTH2"));
    }

    @Test
    void wrongPasswordsNeverReachTheProviderAndTheThirdClosesTheSession() throws Exception {
        start(unlocked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "LOGIN alice s3cret")).as("the provider password is not the local one")
                    .last().asString().startsWith("a1 NO [AUTHENTICATIONFAILED]");
            assertThat(c.command("a2", "LOGIN bob@example.com " + localPassword)).as("a name no account has")
                    .last().asString().startsWith("a2 NO [AUTHENTICATIONFAILED]");
            assertThat(c.command("a3", "LOGIN alice " + localPassword.substring(1))).first().asString()
                    .startsWith("* BYE");
            assertThat(c.closedByPeer()).isTrue();
        }
        assertThat(upstreamConnects()).isZero();
        assertThat(upstream.received).isEmpty();
        assertThat(upstream.receivedBeforeTls).isEmpty();
        assertThat(proxy.counter("mailproxy.auth.failures", "protocol", "imap")).isEqualTo(3);
    }

    @Test
    void commandsBeforeTheLocalLoginStayWithTheProxy() throws Exception {
        start(unlocked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "SELECT INBOX")).last().asString().startsWith("a1 BAD");
            assertThat(c.command("a2", "CAPABILITY")).last().asString().startsWith("a2 OK");
            assertThat(c.command("a3", "NOOP")).last().asString().startsWith("a3 OK");
        }
        assertThat(upstreamConnects()).isZero();
    }

    @Test
    void aLockedKeyOrAMissingProviderLoginIsATemporaryFailureNamingTheFix() throws Exception {
        start(locked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "LOGIN alice " + localPassword)).last().asString()
                    .startsWith("a1 NO [UNAVAILABLE]").contains("mailproxy keys unlock alice@example.com");
        }
        assertThat(upstreamConnects()).isZero();
    }

    @Test
    void theProviderRefusingTheStoredLoginIsNotReportedAsAWrongLocalPassword() throws Exception {
        upstream.script.password = "changed-at-the-provider";
        start(unlocked);
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.command("a1", "LOGIN alice " + localPassword)).last().asString()
                    .startsWith("a1 NO [UNAVAILABLE]").contains("stored login").doesNotContain("AUTHENTICATIONFAILED");
        }
    }

    @Test
    void aClientNotOnLoopbackMustStartTlsBeforeItSendsThePassword() throws Exception {
        start(unlocked);
        // EmbeddedChannel's peer is no loopback address: as a client on another machine would be.
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(new ImapCommandDecoder(65536, 1 << 20, 4096), new ImapWireEncoder(),
                new ImapSession("t1", proxy.config, proxy.context.localTls(), new ProxyMetrics(new SimpleMeterRegistry(),
                        "imap"), null, null, proxy.context.localAuth(), () -> { }));
        ch.pipeline().fireChannelActive();
        String greeting = read(ch);
        assertThat(greeting).contains("LOGINDISABLED").doesNotContain("AUTH=");
        ch.writeInbound(Unpooled.copiedBuffer("a1 LOGIN alice " + localPassword + "\r\n", StandardCharsets.US_ASCII));
        assertThat(read(ch)).startsWith("a1 NO [PRIVACYREQUIRED]");
        ch.finishAndReleaseAll();
        assertThat(upstreamConnects()).isZero();
    }

    private static String read(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }
}
