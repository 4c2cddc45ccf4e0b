package org.mailproxy.imap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.Account;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.UpstreamProbe.Credentials;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mailproxy check}: each failure gets its own verdict. */
class ImapUpstreamProbeTest {

    @TempDir
    Path dir;

    private FakeImapServer upstream;
    private ImapProxyFixture fixture;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new FakeImapServer();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fixture != null) {
            fixture.close();
        }
        upstream.close();
    }

    private ProbeResult probe(String url, Optional<Credentials> credentials) throws Exception {
        fixture = new ImapProxyFixture(dir, Map.of("alice", url), "");
        Account account = fixture.config.accounts().get(0);
        return new ImapUpstreamProbe(fixture.context).probe(account, credentials).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    void okWithoutCredentialsListsCapabilities() throws Exception {
        ProbeResult r = probe(upstream.url(), Optional.empty());
        assertThat(r.outcome()).isEqualTo(Outcome.OK);
        assertThat(r.capabilities()).contains("IMAP4rev1", "IDLE");
        assertThat(upstream.received).noneMatch(l -> l.contains("LOGIN"));
    }

    @Test
    void okWithCredentialsOverStarttls() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        ProbeResult r = probe(upstream.url(), Optional.of(new Credentials("alice", "s3cret".toCharArray())));
        assertThat(r.outcome()).as(r.detail()).isEqualTo(Outcome.OK);
        assertThat(r.detail()).contains("login accepted");
    }

    @Test
    void wrongPasswordIsAuthFailed() throws Exception {
        ProbeResult r = probe(upstream.url(), Optional.of(new Credentials("alice", "nope".toCharArray())));
        assertThat(r.outcome()).isEqualTo(Outcome.AUTH_FAILED);
    }

    @Test
    void untrustedCertificateIsBadCertificate() throws Exception {
        upstream.script.keyStore = TestCertificates.UNTRUSTED_P12;
        assertThat(probe(upstream.url(), Optional.empty()).outcome()).isEqualTo(Outcome.BAD_CERTIFICATE);
    }

    @Test
    void wrongHostNameIsBadCertificate() throws Exception {
        upstream.script.keyStore = TestCertificates.WRONG_NAME_P12;
        assertThat(probe(upstream.url(), Optional.empty()).outcome()).isEqualTo(Outcome.BAD_CERTIFICATE);
    }

    @Test
    void closedPortIsConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(probe("imaps://localhost:" + port, Optional.empty()).outcome()).isEqualTo(Outcome.CONNECTION_REFUSED);
    }

    @Test
    void missingStarttlsIsStarttlsUnavailable() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        upstream.script.offerStartTls = false;
        assertThat(probe(upstream.url(), Optional.empty()).outcome()).isEqualTo(Outcome.STARTTLS_UNAVAILABLE);
    }

    @Test
    void plainTextServerOnTheImplicitTlsPortIsATlsFailure() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS; // speaks plain text first
        String url = "imaps://localhost:" + upstream.port();
        ProbeResult r = probe(url, Optional.empty());
        assertThat(r.outcome()).isIn(Outcome.TLS_FAILED, Outcome.PROTOCOL_ERROR);
    }
}
