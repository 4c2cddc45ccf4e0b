package org.mailproxy.smtp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.Account;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.UpstreamProbe;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mailproxy check}'s verdicts, one per way an upstream can fail. */
class SmtpUpstreamProbeTest {

    @TempDir
    Path dir;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private ProbeResult probe(String url, Optional<UpstreamProbe.Credentials> credentials) throws Exception {
        ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", url), "smtp.timeouts.upstream-connect = 3s");
        closeables.add(p);
        Account account = p.config.accounts().get(0);
        return new SmtpUpstreamProbe(p.context).probe(account, credentials).toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    private FakeSmtpServer fake(FakeSmtpServer.Options o) throws Exception {
        FakeSmtpServer f = new FakeSmtpServer(o);
        closeables.add(f);
        return f;
    }

    @Test
    void okWithCapabilitiesReadAfterTls() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.implicitTls = false;
        FakeSmtpServer up = fake(o);
        ProbeResult r = probe(up.url(), Optional.empty());
        assertThat(r.outcome()).isEqualTo(Outcome.OK);
        // After TLS the upstream no longer offers STARTTLS: these are the capabilities read again.
        assertThat(r.capabilities()).contains("PIPELINING", "AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
    }

    @Test
    void goodAndBadPassword() throws Exception {
        FakeSmtpServer up = fake(new FakeSmtpServer.Options());
        assertThat(probe(up.url(), Optional.of(new UpstreamProbe.Credentials("alice", "secret".toCharArray()))).outcome())
                .isEqualTo(Outcome.OK);
        ProbeResult bad = probe(up.url(), Optional.of(new UpstreamProbe.Credentials("alice", "wrong".toCharArray())));
        assertThat(bad.outcome()).isEqualTo(Outcome.AUTH_FAILED);
        assertThat(up.events).containsOnly("auth alice over TLS", "auth alice over TLS");
    }

    @Test
    void connectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ProbeResult r = probe("smtps://127.0.0.1:" + port, Optional.empty());
        assertThat(r.outcome()).isEqualTo(Outcome.CONNECTION_REFUSED);
        assertThat(r.detail()).contains("connection refused");
    }

    @Test
    void badCertificate() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.ssl = TestPki.serverContext(TestPki.UNTRUSTED_P12);
        ProbeResult r = probe(fake(o).url(), Optional.of(new UpstreamProbe.Credentials("alice", "secret".toCharArray())));
        assertThat(r.outcome()).isEqualTo(Outcome.BAD_CERTIFICATE);
        assertThat(r.detail()).contains("certificate");
    }

    @Test
    void startTlsMissing() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.implicitTls = false;
        o.offerStartTls = false;
        FakeSmtpServer up = fake(o);
        ProbeResult r = probe(up.url(), Optional.of(new UpstreamProbe.Credentials("alice", "secret".toCharArray())));
        assertThat(r.outcome()).isEqualTo(Outcome.STARTTLS_UNAVAILABLE);
        assertThat(up.events).noneMatch(e -> e.startsWith("auth"));
    }

    @Test
    void plainTextServerOnATlsPortIsATlsFailure() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.implicitTls = false;
        FakeSmtpServer up = fake(o);
        ProbeResult r = probe("smtps://127.0.0.1:" + up.port(), Optional.empty());
        assertThat(r.outcome()).isEqualTo(Outcome.TLS_FAILED);
    }

    @Test
    void silentServerIsUnreachable() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ProbeResult r = probe("smtp+starttls://127.0.0.1:" + s.getLocalPort(), Optional.empty());
            assertThat(r.outcome()).isEqualTo(Outcome.UNREACHABLE);
            assertThat(r.detail()).contains("within 3s");
        }
    }
}
