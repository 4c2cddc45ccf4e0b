package org.mailproxy.app.setup;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.mailproxy.app.http.AutoconfigEndpoint;
import org.mailproxy.config.Account;
import org.mailproxy.config.LocalTls;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.Protocol;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's own autoconfig document (what its HTTP listener serves to Thunderbird) read back by the discovery
 * client: both sides of the format agree, and a proxy without local TLS is refused like any plain-text server.
 */
class OwnAutoconfigTest {

    private static final String EMAIL = "alice@example.test";

    private static DiscoveryResult discoverFrom(LocalTls.Mode mode) throws Exception {
        Account account = new Account(EMAIL, "alice", UpstreamEndpoint.parse("imaps://imap.example.test", Protocol.IMAP),
                UpstreamEndpoint.parse("smtps://smtp.example.test", Protocol.SMTP));
        AutoconfigEndpoint endpoint = new AutoconfigEndpoint(List.of(account),
                new AutoconfigEndpoint.Listener("127.0.0.1", 1143), new AutoconfigEndpoint.Listener("127.0.0.1", 1025), mode);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/", exchange -> {
            try {
                endpoint.handle(exchange);
            } finally {
                exchange.close();
            }
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            return new AutoconfigClient(List.of(base + "/mail/config-v1.1.xml?emailaddress={email}"), null,
                    Duration.ofSeconds(5)).discover(EMAIL);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void theProxysOwnDocumentReadsBackAsItsListeners() throws Exception {
        DiscoveryResult r = discoverFrom(LocalTls.Mode.STARTTLS);
        assertThat(r.notes()).isEmpty();
        assertThat(r.imap().orElseThrow().endpoint()).hasToString("imap+starttls://127.0.0.1:1143");
        assertThat(r.smtp().orElseThrow().endpoint()).hasToString("smtp+starttls://127.0.0.1:1025");
        assertThat(r.username()).contains("alice");
        assertThat(r.imap().get().authenticated()).isFalse();
    }

    @Test
    void aProxyWithoutLocalTlsIsAPlainTextServerAndRefused() throws Exception {
        DiscoveryResult r = discoverFrom(LocalTls.Mode.OFF);
        assertThat(r.imap()).isEmpty();
        assertThat(r.smtp()).isEmpty();
        assertThat(r.notes()).anyMatch(n -> n.contains("offers no TLS"));
    }
}
