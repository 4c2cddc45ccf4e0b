package org.mailproxy.imap;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** SECURITY.md 9-12 and 24: what must happen before a credential may go upstream, and what the logs never hold. */
class UpstreamSecurityTest {

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

    private String login(String url, String password) throws Exception {
        proxy = new ImapProxyFixture(dir, Map.of("alice", url), "");
        try (ImapTestClient c = new ImapTestClient(proxy.port())) {
            c.readResponse();
            var r = c.command("a1", "LOGIN alice " + password);
            // The session stays usable after a failed login.
            assertThat(c.command("a2", "NOOP")).last().asString().startsWith("a2 OK");
            return r.get(r.size() - 1);
        }
    }

    private void assertNoCredentialSent() {
        assertThat(upstream.received).noneMatch(l -> l.contains("LOGIN") || l.contains("s3cret"));
        assertThat(upstream.receivedBeforeTls).noneMatch(l -> l.contains("LOGIN") || l.contains("s3cret"));
    }

    @Test
    void starttlsUpstreamWorksAndOnlyCapabilityAndStarttlsGoInTheClear() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 OK [CAPABILITY");
        assertThat(upstream.receivedBeforeTls).hasSize(2).allMatch(l -> l.matches("mp\\d+ (CAPABILITY|STARTTLS)"));
        assertThat(upstream.received).anyMatch(l -> l.matches("mp\\d+ CAPABILITY"));
    }

    @Test
    void providerWithoutStarttlsIsRefusedBeforeAnyCredential() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        upstream.script.offerStartTls = false;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("does not offer STARTTLS");
        assertNoCredentialSent();
    }

    @Test
    void starttlsRefusedByProviderAborts() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        upstream.script.refuseStartTls = true;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("refused STARTTLS");
        assertNoCredentialSent();
    }

    @Test
    void preauthGreetingAborts() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        upstream.script.preauthGreeting = true;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("PREAUTH");
        assertNoCredentialSent();
    }

    @Test
    void dataInjectedAfterStarttlsOkAborts() throws Exception {
        upstream.script.tls = FakeImapServer.Tls.STARTTLS;
        upstream.script.injectAfterStartTls = true;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("after accepting STARTTLS");
        assertNoCredentialSent();
    }

    @Test
    void untrustedCertificateIsUnavailableAndCounted() throws Exception {
        upstream.script.keyStore = TestCertificates.UNTRUSTED_P12;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("certificate");
        assertNoCredentialSent();
        assertThat(proxy.counter("mailproxy.tls.failures", "side", "upstream")).isEqualTo(1);
    }

    @Test
    void trustedCertificateForAnotherHostIsRefused() throws Exception {
        upstream.script.keyStore = TestCertificates.WRONG_NAME_P12;
        assertThat(login(upstream.url(), "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("certificate");
        assertNoCredentialSent();
    }

    @Test
    void refusedConnectionIsUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(login("imaps://localhost:" + port, "s3cret")).startsWith("a1 NO [UNAVAILABLE]").contains("refused");
    }

    @Test
    void logsNeverHoldCredentials() throws Exception {
        CapturingAppender.LINES.clear();
        assertThat(login(upstream.url(), "Canary-Pw-93")).startsWith("a1 NO");
        proxy.close();
        proxy = null;
        assertThat(CapturingAppender.LINES).isNotEmpty().noneMatch(l -> l.contains("Canary-Pw-93"));
        // One line when a session opens and one when it closes, tied together by the session id.
        String open = CapturingAppender.LINES.stream().filter(l -> l.matches("imap session imap-\\w+ open from .*"))
                .findFirst().orElseThrow();
        String id = open.split(" ")[2];
        assertThat(CapturingAppender.LINES).filteredOn(l -> l.startsWith("imap session " + id + " closed")).hasSize(1);
    }
}
