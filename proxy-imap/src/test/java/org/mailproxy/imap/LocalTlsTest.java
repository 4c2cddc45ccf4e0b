package org.mailproxy.imap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The local side: STARTTLS (SECURITY.md 10) and implicit TLS with the proxy's generated certificate. */
class LocalTlsTest {

    @TempDir
    Path dir;

    private FakeImapServer upstream;
    private ImapProxyFixture proxy;

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

    private SSLContext trustingProxy() throws Exception {
        Path pem = proxy.context.localTls().certificateFile().orElseThrow();
        try (InputStream in = Files.newInputStream(pem)) {
            Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore ts = KeyStore.getInstance(KeyStore.getDefaultType());
            ts.load(null, null);
            ts.setCertificateEntry("proxy", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        }
    }

    @Test
    void starttlsThenLogin() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "local-tls.mode = starttls");
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            assertThat(c.readResponse()).contains(" STARTTLS ");
            assertThat(c.command("a1", "STARTTLS")).containsExactly("a1 OK Begin TLS negotiation now");
            c.upgrade(trustingProxy());
            assertThat(c.command("a2", "CAPABILITY").get(0)).startsWith("* CAPABILITY").doesNotContain("STARTTLS");
            assertThat(c.command("a3", "STARTTLS")).containsExactly("a3 BAD STARTTLS not available");
            assertThat(c.command("a4", "LOGIN alice s3cret")).last().asString().startsWith("a4 OK");
        }
    }

    @Test
    void commandsPipelinedBehindStarttlsCloseTheConnection() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "local-tls.mode = starttls");
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            c.send("a1 STARTTLS\r\na2 LOGIN alice s3cret\r\n");
            assertThat(c.readResponse()).isNull();
        }
        assertThat(upstream.received).isEmpty();
        assertThat(upstream.receivedBeforeTls).isEmpty();
    }

    @Test
    void implicitTls() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "local-tls.mode = implicit");
        try (ImapTestClient c = new ImapTestClient(proxy.port(), trustingProxy())) {
            assertThat(c.readResponse()).startsWith("* OK [CAPABILITY").doesNotContain("STARTTLS");
            assertThat(c.command("a1", "LOGIN alice s3cret")).last().asString().startsWith("a1 OK");
        }
    }

    @Test
    void plainTextOnTheImplicitPortIsATlsFailure() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "local-tls.mode = implicit");
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.send("a1 LOGIN alice s3cret\r\n");
            assertThat(c.closedByPeer()).isTrue();
        }
        org.awaitility.Awaitility.await().until(() -> proxy.counter("mailproxy.tls.failures", "side", "client") == 1);
        assertThat(upstream.received).isEmpty();
    }

    @Test
    void idleClientGetsByeAfterTheTimeout() throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", upstream.url()), "imap.timeouts.client-idle = 1s\nlocal-tls.mode = off");
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            assertThat(c.readResponse()).isEqualTo("* BYE Autologout; idle for too long");
            assertThat(c.closedByPeer()).isTrue();
        }
    }
}
