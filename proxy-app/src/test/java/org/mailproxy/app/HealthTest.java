package org.mailproxy.app;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mailproxy.app.KeyFixture.ALICE;
import static org.mailproxy.app.TestFiles.q;

/**
 * {@code GET /health} of a running daemon against a real upstream (the embedded GreenMail over TLS): 200 and
 * {@code "ok"} while both upstreams answer and the key is unlocked; 503 with {@code reachable: false} once the
 * upstream stops, and 200 again when it is back; key states locked, unlocked and no-secret-key; HEAD and 405.
 */
class HealthTest {

    private static final String BOB = "bob@example.test";

    @TempDir
    Path tmp;

    private KeyFixture keys;
    private EmbeddedUpstream upstream;
    private GreenMail restarted;
    private Daemon daemon;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void setUp() throws Exception {
        keys = new KeyFixture(tmp);
        upstream = EmbeddedUpstream.start(Map.of(ALICE, "upstream-secret"));
    }

    @AfterEach
    void tearDown() {
        if (daemon != null) {
            daemon.stop();
        }
        upstream.close();
        if (restarted != null) {
            restarted.stop();
        }
    }

    private MailproxyConfig config(String aliceExtra, String moreAccounts) throws Exception {
        return new ConfigLoader(Map.of()).load(TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n"
                + "  data-dir = " + q(keys.dataDir) + "\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http { listen = \"127.0.0.1:0\", health-interval = 200ms }\n"
                + "  imap.timeouts.upstream-connect = 3s\n"
                + "  smtp.timeouts.upstream-connect = 3s\n"
                + "  local-tls.mode = off\n"
                + "  tls.trusted-ca-file = " + q(upstream.caCertificate()) + "\n"
                + "  shutdown.grace-period = 1s\n"
                + "  accounts = [ { email = \"" + ALICE + "\", imap.upstream = \"" + upstream.imapUrl() + "\",\n"
                + "                 smtp.upstream = \"" + upstream.smtpUrl() + "\", " + aliceExtra + " }\n"
                + moreAccounts
                + "  ]\n"
                + "}\n"));
    }

    private HttpResponse<String> health(String method) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + daemon.httpAddress().orElseThrow().getPort() + "/health");
        return http.send(HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Map<String, String> healthFields(int expectedStatus) throws Exception {
        HttpResponse<String> r = health("GET");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expectedStatus);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        return JsonFields.parse(r.body());
    }

    @Test
    void aStoppedUpstreamTurnsHealthTo503AndBackTo200WhenItReturns() throws Exception {
        daemon = KeyFixture.start(config("key.passphrase-file = " + q(keys.passphraseFile), ""), Map.of());

        // The first request waits a bounded time for the first probes; on a busy machine they may take longer.
        await().atMost(Duration.ofSeconds(30)).until(() -> health("GET").statusCode() == 200);
        Map<String, String> ok = healthFields(200);
        assertThat(ok).containsEntry("status", "\"ok\"")
                .containsEntry("version", "\"" + Version.current() + "\"")
                .containsEntry("accounts.0.email", "\"" + ALICE + "\"")
                .containsEntry("accounts.0.imap.upstream", "\"" + upstream.imapUrl() + "\"")
                .containsEntry("accounts.0.imap.reachable", "true")
                .containsEntry("accounts.0.smtp.upstream", "\"" + upstream.smtpUrl() + "\"")
                .containsEntry("accounts.0.smtp.reachable", "true")
                .containsEntry("accounts.0.key", "\"unlocked\"")
                .doesNotContainKey("accounts.0.imap.reason");
        assertThat(ok.get("accounts.0.imap.checked")).matches("\"\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z\"");

        int imapPort = upstream.imapsPort();
        int smtpPort = upstream.smtpsPort();
        upstream.close();
        // Polled on the status code; the JSON is parsed (by a separate process) once it has turned.
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            HttpResponse<String> r = health("GET");
            // While the upstream shuts down a probe may see a cut greeting or no answer; then it refuses.
            return r.statusCode() == 503 && r.body().split("\"reason\":\"connection refused\"", -1).length == 3;
        });
        assertThat(healthFields(503))
                .containsEntry("status", "\"degraded\"")
                .containsEntry("accounts.0.imap.reachable", "false")
                .containsEntry("accounts.0.imap.reason", "\"connection refused\"")
                .containsEntry("accounts.0.smtp.reachable", "false")
                .containsEntry("accounts.0.key", "\"unlocked\"");
        assertThat(health("HEAD").statusCode()).isEqualTo(503);

        restarted = new GreenMail(new ServerSetup[]{
                new ServerSetup(imapPort, "127.0.0.1", ServerSetup.PROTOCOL_IMAPS),
                new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS)});
        restarted.start();
        await().atMost(Duration.ofSeconds(15)).until(() -> health("GET").statusCode() == 200);
        assertThat(healthFields(200))
                .containsEntry("status", "\"ok\"")
                .containsEntry("accounts.0.imap.reachable", "true")
                .containsEntry("accounts.0.smtp.reachable", "true");
    }

    @Test
    void keyStatesAreReportedAndOnlyAnUnlockedKeyIsHealthy() throws Exception {
        daemon = KeyFixture.start(config("", "    { email = \"" + BOB + "\", imap.upstream = \"" + upstream.imapUrl()
                + "\", smtp.upstream = \"" + upstream.smtpUrl() + "\" }\n"), Map.of());

        await().atMost(Duration.ofSeconds(30)).until(() -> !health("GET").body().contains("\"reachable\":false"));
        Map<String, String> locked = healthFields(503);
        assertThat(locked).containsEntry("status", "\"degraded\"")
                .containsEntry("accounts.0.imap.reachable", "true")
                .containsEntry("accounts.0.smtp.reachable", "true")
                .containsEntry("accounts.0.key", "\"locked\"")
                .containsEntry("accounts.1.email", "\"" + BOB + "\"")
                .containsEntry("accounts.1.key", "\"no-secret-key\"");

        daemon.context().accountKeys().unlock(ALICE, PassphraseSource.ofChars(KeyFixture.PASSPHRASE.toCharArray()));
        assertThat(healthFields(503)).containsEntry("accounts.0.key", "\"unlocked\"")
                .containsEntry("accounts.1.key", "\"no-secret-key\"");
    }

    @Test
    void headAnswersWithoutABodyAndOtherMethodsAre405() throws Exception {
        daemon = KeyFixture.start(config("key.passphrase-file = " + q(keys.passphraseFile), ""), Map.of());
        await().atMost(Duration.ofSeconds(30)).until(() -> health("GET").statusCode() == 200);
        HttpResponse<String> head = health("HEAD");
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        HttpResponse<String> post = health("POST");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(health("DELETE").statusCode()).isEqualTo(405);
    }
}
