package org.mailproxy.app.setup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.testing.TestCa;

import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.setup.AutoconfigXmlTest.config;
import static org.mailproxy.app.setup.AutoconfigXmlTest.server;

/** Fetching autoconfig documents from a loopback HTTPS server: the URL order, and servers that misbehave. */
class AutoconfigClientTest {

    private static final String EMAIL = "bob+tag@example.org";
    private static final String XML = config(
            server("incomingServer", "imap", "imap.example.org", "993", "SSL", "%EMAILADDRESS%"),
            server("outgoingServer", "smtp", "smtp.example.org", "465", "SSL", "%EMAILADDRESS%"));

    @TempDir
    static Path dir;

    private static AutoconfigServer server;

    @BeforeAll
    static void start() throws Exception {
        server = AutoconfigServer.start(dir);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void reset() {
        server.requests.clear();
    }

    /** The two default URLs, moved onto the loopback server (the domain becomes a path segment). */
    private static AutoconfigClient client(Duration timeout) {
        return new AutoconfigClient(List.of(
                server.base() + "/autoconfig/{domain}/mail/config-v1.1.xml?emailaddress={email}",
                server.base() + "/{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
                TestCa.sslContext(server.certificate()), timeout);
    }

    @Test
    void theFirstUrlIsAskedWithTheAddressEncoded() {
        server.serve("/autoconfig/example.org/mail/config-v1.1.xml", XML);
        DiscoveryResult r = client(Duration.ofSeconds(5)).discover(EMAIL);
        assertThat(r.imap().orElseThrow().endpoint().toString()).isEqualTo("imaps://imap.example.org:993");
        assertThat(r.smtp().orElseThrow().username()).contains(EMAIL);
        assertThat(r.imap().get().authenticated()).isTrue();
        assertThat(server.requests).containsExactly(
                "/autoconfig/example.org/mail/config-v1.1.xml?emailaddress=bob%2Btag%40example.org");
    }

    @Test
    void theWellKnownUrlIsTriedWhenTheFirstFails() {
        server.answer("/autoconfig/example.net/mail/config-v1.1.xml", ex -> ex.sendResponseHeaders(500, -1));
        server.serve("/example.net/.well-known/autoconfig/mail/config-v1.1.xml", XML);
        DiscoveryResult r = client(Duration.ofSeconds(5)).discover("carol@example.net");
        assertThat(r.complete()).isTrue();
        assertThat(r.notes()).singleElement().asString().contains("HTTP 500");
    }

    @Test
    void anOversizedBodyIsCutOff() {
        server.answer("/autoconfig/big.example/mail/config-v1.1.xml", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                byte[] junk = new byte[64 * 1024];
                for (int i = 0; i < 64; i++) {
                    out.write(junk);
                }
            } catch (java.io.IOException expected) {
                // the client hung up
            }
        });
        DiscoveryResult r = client(Duration.ofSeconds(5)).discover("dave@big.example");
        assertThat(r.imap()).isEmpty();
        assertThat(r.notes()).anyMatch(n -> n.contains("larger than " + AutoconfigXml.MAX_BYTES));
    }

    @Test
    void aServerThatNeverFinishesRunsIntoTheTimeout() {
        server.answer("/autoconfig/slow.example/mail/config-v1.1.xml", ex -> {
            ex.sendResponseHeaders(200, 0);
            ex.getResponseBody().write("<clientConfig>".getBytes());
            ex.getResponseBody().flush();
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        long start = System.nanoTime();
        DiscoveryResult r = client(Duration.ofMillis(500)).discover("erin@slow.example");
        assertThat(r.notes()).anyMatch(n -> n.contains("no answer within"));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(8));
    }

    @Test
    void anUntrustedCertificateGivesNothing() {
        server.serve("/autoconfig/example.org/mail/config-v1.1.xml", XML);
        AutoconfigClient untrusting = new AutoconfigClient(
                List.of(server.base() + "/autoconfig/{domain}/mail/config-v1.1.xml"), null, Duration.ofSeconds(5));
        DiscoveryResult r = untrusting.discover(EMAIL);
        assertThat(r.imap()).isEmpty();
        assertThat(r.notes()).singleElement().asString().contains("TLS");
    }

    @Test
    void aHostileDocumentIsANoteNotACrash() {
        server.serve("/autoconfig/xxe.example/mail/config-v1.1.xml",
                "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><clientConfig>&e;</clientConfig>");
        DiscoveryResult r = client(Duration.ofSeconds(5)).discover("frank@xxe.example");
        assertThat(r.imap()).isEmpty();
        assertThat(r.notes()).anyMatch(n -> n.contains("DOCTYPE"));
    }

    @Test
    void plainHttpIsOnlyInTheListWhenAskedFor() {
        assertThat(AutoconfigClient.defaults(false).templates()).containsExactly(
                "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
                "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml");
        assertThat(AutoconfigClient.defaults(true).templates()).last().asString().startsWith("http://autoconfig.");
    }

    @Test
    void anAddressWithoutAUsableDomainAsksNothing() {
        DiscoveryResult r = client(Duration.ofSeconds(5)).discover("someone@bad/domain");
        assertThat(r.imap()).isEmpty();
        assertThat(server.requests).isEmpty();
    }
}
