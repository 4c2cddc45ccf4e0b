package org.mailproxy.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.TestFiles.q;

/**
 * The daemon's autoconfiguration names the ports its IMAP and SMTP listeners are actually bound to (the
 * configuration may say port 0) and its local TLS mode; the format itself is tested in
 * {@code org.mailproxy.app.http.AutoconfigTest}.
 */
class AutoconfigDaemonTest {

    @TempDir
    Path tmp;

    private Daemon daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.stop();
        }
    }

    @Test
    void namesTheBoundPortsAndTheLocalTlsMode() throws Exception {
        MailproxyConfig config = new ConfigLoader(Map.of()).loadString("mailproxy {\n"
                + "  data-dir = " + q(TestFiles.dataDir(tmp)) + "\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = \"127.0.0.1:0\"\n"
                + "  local-tls.mode = implicit\n"
                + "  shutdown.grace-period = 1s\n"
                + "  accounts = [ { email = \"alice@example.test\", login = \"alice\",\n"
                + "                 imap.upstream = \"imaps://127.0.0.1:1\", smtp.upstream = \"smtps://127.0.0.1:1\" } ]\n"
                + "}\n", "mailproxy.conf");
        daemon = KeyFixture.start(config, Map.of());
        String base = "http://127.0.0.1:" + daemon.httpAddress().orElseThrow().getPort();
        HttpClient http = HttpClient.newHttpClient();

        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1.1/example.test")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body())
                .contains("<incomingServer type=\"imap\">\n      <hostname>127.0.0.1</hostname>\n"
                        + "      <port>" + daemon.imapAddress().getPort() + "</port>\n      <socketType>SSL</socketType>\n"
                        + "      <username>alice</username>")
                .contains("<outgoingServer type=\"smtp\">\n      <hostname>127.0.0.1</hostname>\n"
                        + "      <port>" + daemon.smtpAddress().getPort() + "</port>\n      <socketType>SSL</socketType>");

        assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1.1/example.org")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }
}
