package org.mailproxy.imap;

import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.crypto.openpgp.AccountKeys;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.net.EventLoops;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A started {@link ImapProxy} on a free loopback port whose upstream trusts {@link TestCertificates}. */
public final class ImapProxyFixture implements AutoCloseable {

    public final MailproxyConfig config;
    public final ProxyContext context;
    public final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    public final ImapProxy proxy;
    private final EventLoops loops = new EventLoops(2);

    /** @param accounts HOCON account entries: login to IMAP upstream URL (email is login@example.com) */
    public ImapProxyFixture(Path dir, Map<String, String> accounts, String extra) throws Exception {
        this(dir, accounts, extra, TestCertificates.TRUSTED_PEM);
    }

    /** @param trustedCa the extra CA file for upstream certificates (a real test stack's CA) */
    public ImapProxyFixture(Path dir, Map<String, String> accounts, String extra, Path trustedCa) throws Exception {
        this(dir, accounts, extra, trustedCa, AccountKeys.empty());
    }

    /** @param keys the accounts' keys (their data-dir is {@code dir/data}) */
    public ImapProxyFixture(Path dir, Map<String, String> accounts, String extra, Path trustedCa, AccountKeys keys)
            throws Exception {
        StringBuilder acc = new StringBuilder();
        accounts.forEach((login, url) -> acc.append("{ email = \"").append(login).append("@example.com\", login = \"")
                .append(login).append("\", imap.upstream = \"").append(url)
                .append("\", smtp.upstream = \"smtps://127.0.0.1:465\" }\n"));
        String hocon = "mailproxy {\n"
                + "  data-dir = \"" + dir.resolve("data") + "\"\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  imap.timeouts.upstream-connect = 5s\n"
                + "  http.listen = off\n"
                + "  tls.trusted-ca-file = \"" + trustedCa + "\"\n"
                + "  local-tls.mode = off\n"
                + "  accounts = [\n" + acc + "  ]\n"
                + extra + "\n}\n";
        config = new ConfigLoader(Map.of()).loadString(hocon, "test.conf");
        context = new ProxyContext(config, loops, UpstreamTls.create(config.trustedCaFile()),
                LocalTls.create(config.localTls(), config.dataDir()), meters, keys,
                LocalAuth.of(config, config.dataDir(), keys));
        proxy = new ImapProxy(context);
        proxy.start();
    }

    public int port() {
        return proxy.boundAddress().getPort();
    }

    public double counter(String name, String... tags) {
        var c = meters.find(name).tags(tags).counter();
        return c == null ? 0 : c.count();
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.drainAndClose(Duration.ofMillis(500)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } finally {
            loops.shutdown(Duration.ofSeconds(1));
        }
    }
}
