package org.mailproxy.smtp;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.net.EventLoops;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A started {@link SmtpProxy} on a free loopback port, trusting {@link TestPki}'s certificate upstream. */
final class ProxyFixture implements AutoCloseable {

    final MailproxyConfig config;
    final ProxyContext context;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final SmtpProxy proxy;
    final EventLoops loops = new EventLoops(2);

    /**
     * @param accounts HOCON account objects' smtp upstream URLs, keyed by login (email is login@example.com)
     * @param extra more HOCON inside {@code mailproxy { }}
     */
    ProxyFixture(Path dir, Map<String, String> accounts, String extra) throws Exception {
        this(dir, accounts, extra, TestPki.TRUSTED_PEM);
    }

    /** With another CA for the upstream (the mail stack's test CA). */
    ProxyFixture(Path dir, Map<String, String> accounts, String extra, Path trustedCa) throws Exception {
        this(dir, accounts, extra, trustedCa, org.mailproxy.smtp.transform.IdentityTransform.INSTANCE);
    }

    ProxyFixture(Path dir, Map<String, String> accounts, String extra, Path trustedCa,
                 org.mailproxy.smtp.transform.MessageTransform transform) throws Exception {
        this(dir, accounts, extra, trustedCa, transform, org.mailproxy.core.crypto.openpgp.AccountKeys.empty());
    }

    /** @param keys the accounts' keys, for local authentication (whose data-dir is {@code dir/data}) */
    ProxyFixture(Path dir, Map<String, String> accounts, String extra, Path trustedCa,
                 org.mailproxy.smtp.transform.MessageTransform transform,
                 org.mailproxy.core.crypto.openpgp.AccountKeys keys) throws Exception {
        StringBuilder acc = new StringBuilder();
        accounts.forEach((login, url) -> acc.append("{ email = \"").append(login).append("@example.com\", login = \"")
                .append(login).append("\", imap.upstream = \"imaps://127.0.0.1:993\", smtp.upstream = \"").append(url).append("\" }\n"));
        String hocon = "mailproxy {\n"
                + "  data-dir = \"" + dir.resolve("data") + "\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = off\n"
                + "  tls.trusted-ca-file = \"" + trustedCa + "\"\n"
                + "  local-tls.mode = off\n"
                + "  accounts = [\n" + acc + "  ]\n"
                + extra + "\n}\n";
        config = new ConfigLoader(Map.of()).loadString(hocon, "test.conf");
        context = new ProxyContext(config, loops, UpstreamTls.create(config.trustedCaFile()),
                LocalTls.create(config.localTls(), config.dataDir()), meters, keys,
                org.mailproxy.core.auth.LocalAuth.of(config, config.dataDir(), keys));
        proxy = new SmtpProxy(context, transform);
        proxy.start();
    }

    int port() {
        return proxy.boundAddress().getPort();
    }

    Path localCertificate() {
        return context.localTls().certificateFile().orElseThrow();
    }

    double counter(String name, String... tags) {
        var search = meters.find(name).tags(tags);
        return search.counter() == null ? 0 : search.counter().count();
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.drainAndClose(Duration.ofMillis(500)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } finally {
            loops.shutdown(Duration.ofSeconds(1));
        }
    }

    static Map<String, String> one(String login, String url) {
        return Map.of(login, url);
    }

    static List<String> lines(String reply) {
        return List.of(reply.split("\n"));
    }
}
