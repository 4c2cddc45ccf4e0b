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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.app.TestFiles.q;

/**
 * docs/METRICS.md lists every meter a running daemon exposes: the metric families of a real daemon's
 * {@code /metrics} (with the IMAP and SMTP relays) are compared with the names the document writes in backticks.
 * A meter added without documentation fails here, and so does a documented mailproxy meter that no longer exists.
 */
class MetricsCatalogueTest {

    private static final Pattern FAMILY = Pattern.compile("^# TYPE (\\S+) \\S+$", Pattern.MULTILINE);
    private static final Pattern DOCUMENTED = Pattern.compile("`([a-z_:][a-z0-9_:]*)`");

    @TempDir
    Path tmp;

    private Daemon daemon;

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.stop();
        }
    }

    /** The catalogue, found from the module directory (where the build runs tests) or the repository root. */
    static Path catalogue() {
        Path inModule = Path.of("..", "docs", "METRICS.md");
        return Files.exists(inModule) ? inModule : Path.of("docs", "METRICS.md");
    }

    @Test
    void everyExposedMeterIsDocumentedAndEveryDocumentedMeterIsExposed() throws Exception {
        MailproxyConfig config = new ConfigLoader(Map.of()).loadString("mailproxy {\n"
                + "  data-dir = " + q(TestFiles.dataDir(tmp)) + "\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = \"127.0.0.1:0\"\n"
                + "  local-tls.mode = off\n"
                + "  shutdown.grace-period = 1s\n"
                + "  accounts = [ { email = \"alice@example.test\", imap.upstream = \"imaps://127.0.0.1:1\",\n"
                + "                 smtp.upstream = \"smtps://127.0.0.1:1\" } ]\n"
                + "}\n", "mailproxy.conf");
        daemon = Daemon.start(config, Map.of());
        String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + daemon.httpAddress().orElseThrow().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();

        Set<String> exposed = new TreeSet<>();
        Matcher m = FAMILY.matcher(scrape);
        while (m.find()) {
            exposed.add(m.group(1));
        }
        Set<String> documented = new TreeSet<>();
        Matcher d = DOCUMENTED.matcher(Files.readString(catalogue()));
        while (d.find()) {
            documented.add(d.group(1));
        }

        assertThat(exposed).as("the daemon exposes meters").contains("mailproxy_sessions_total", "jvm_memory_used_bytes");
        assertThat(documented).as("meters missing from " + catalogue()).containsAll(exposed);
        assertThat(exposed).as("mailproxy meters in " + catalogue() + " that the daemon does not expose")
                .containsAll(documented.stream().filter(n -> n.startsWith("mailproxy_")).toList());
    }
}
