package org.mailproxy.app.setup;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SRV discovery against a real DNS server (dnsmasq on loopback): service order, priority and weight, "." targets,
 * bogus records, and a DNS server that does not answer.
 */
class SrvDiscoveryTest {

    @TempDir
    static Path dir;

    private static Dnsmasq dns;

    @BeforeAll
    static void start() throws Exception {
        dns = Dnsmasq.start(dir.resolve("dnsmasq.log"),
                // good.test: two IMAPS records (the lower priority wins), SUBMISSIONS explicitly not offered.
                "_imaps._tcp.good.test,imap-b.good.test,993,10,0",
                "_imaps._tcp.good.test,imap-a.good.test,1993,5,0",
                "_imap._tcp.good.test,imap-plain.good.test,143,0,0",
                "_submissions._tcp.good.test",
                "_submission._tcp.good.test,smtp.good.test,587,0,0",
                // weights.test: equal priority, the higher weight wins.
                "_imaps._tcp.weights.test,light.weights.test,993,10,1",
                "_imaps._tcp.weights.test,heavy.weights.test,993,10,60",
                "_submissions._tcp.weights.test,smtp.weights.test,465,0,0",
                // bogus.test: port 0 is skipped, and the STARTTLS service is used.
                "_imaps._tcp.bogus.test,imap.bogus.test,0,0,0",
                "_imap._tcp.bogus.test,imap.bogus.test,143,0,0");
    }

    @AfterAll
    static void stop() {
        if (dns != null) {
            dns.close();
        }
    }

    private static DiscoveryResult discover(String email) {
        return new SrvDiscovery(dns.server(), Duration.ofSeconds(2)).discover(email);
    }

    @Test
    void implicitTlsServicesComeFirstAndTheLowestPriorityWins() {
        DiscoveryResult r = discover("ann@good.test");
        assertThat(r.imap().orElseThrow().endpoint().toString()).isEqualTo("imaps://imap-a.good.test:1993");
        assertThat(r.imap().get().source()).isEqualTo("DNS SRV _imaps._tcp.good.test");
        assertThat(r.imap().get().authenticated()).isFalse();
        assertThat(r.imap().get().username()).isEmpty();
        // "_submissions" names "." (not offered), so the STARTTLS submission service is used.
        assertThat(r.smtp().orElseThrow().endpoint().toString()).isEqualTo("smtp+starttls://smtp.good.test:587");
        assertThat(r.notes()).anyMatch(n -> n.contains("_submissions._tcp.good.test") && n.contains("not offered"));
    }

    @Test
    void amongEqualPrioritiesTheHighestWeightWins() {
        DiscoveryResult r = discover("ann@weights.test");
        assertThat(r.imap().orElseThrow().endpoint().host()).isEqualTo("heavy.weights.test");
        assertThat(r.smtp().orElseThrow().endpoint().toString()).isEqualTo("smtps://smtp.weights.test:465");
    }

    @Test
    void aRecordWithABogusPortIsSkipped() {
        DiscoveryResult r = discover("ann@bogus.test");
        assertThat(r.imap().orElseThrow().endpoint().toString()).isEqualTo("imap+starttls://imap.bogus.test:143");
        assertThat(r.notes()).anyMatch(n -> n.contains("bad port 0"));
        assertThat(r.smtp()).isEmpty();
    }

    @Test
    void aDomainWithoutRecordsGivesNothingAndNoComplaint() {
        DiscoveryResult r = discover("ann@nothing.test");
        assertThat(r.imap()).isEmpty();
        assertThat(r.smtp()).isEmpty();
        assertThat(r.notes()).isEmpty();
    }

    @Test
    void aSilentDnsServerIsANote() throws Exception {
        int silent;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            silent = s.getLocalPort();
        }
        DiscoveryResult r = new SrvDiscovery("127.0.0.1:" + silent, Duration.ofMillis(100)).discover("ann@good.test");
        assertThat(r.imap()).isEmpty();
        // One note: after the first silence the other three services are not asked.
        assertThat(r.notes()).singleElement().asString().startsWith("DNS SRV _imaps._tcp.good.test: no answer");
    }

    @Test
    void malformedRecordTextIsSkipped() {
        List<String> notes = new ArrayList<>();
        assertThat(SrvDiscovery.parse("10 0 993", "n", notes)).isEmpty();
        assertThat(SrvDiscovery.parse("10 0 x host.test.", "n", notes)).isEmpty();
        assertThat(SrvDiscovery.parse("10 0 993 bad/host.", "n", notes)).isEmpty();
        assertThat(SrvDiscovery.parse("10 0 70000 host.test.", "n", notes)).isEmpty();
        assertThat(notes).hasSize(4);
        assertThat(SrvDiscovery.parse("1 2 993 Host.Test.", "n", notes)).contains(new SrvDiscovery.Srv(1, 2, 993, "host.test"));
        assertThat(SrvDiscovery.parse("0 0 0 .", "n", notes)).contains(new SrvDiscovery.Srv(0, 0, 0, "."));
    }
}
