package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;
import org.mailproxy.config.Account;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.net.UpstreamProbe;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code GET /health}: per account, whether its IMAP and SMTP upstreams answered the last probe and whether its key
 * is unlocked, as JSON. HTTP 200 when everything is well, 503 otherwise: Docker's {@code HEALTHCHECK}, systemd
 * checks and load balancers only look at the status code (docs/METRICS.md describes the fields).
 *
 * <p>Answers come from the {@link UpstreamMonitor}'s last results, so they are quick whatever the providers do. The
 * very first request starts the probing and waits up to {@link #FIRST_WAIT} for the first results; an upstream
 * still unprobed after that is reported as not reachable ("not checked yet"). Credentials never appear: the
 * upstream is shown as configured (scheme, host, port), and no probe logs in.
 */
public final class HealthEndpoint implements Endpoint, AutoCloseable {

    /** How long the first request may wait for the first probes; a health check's own timeout is longer. */
    static final Duration FIRST_WAIT = Duration.ofSeconds(3);

    static final String CONTENT_TYPE = "application/json; charset=utf-8";

    private final List<Account> accounts;
    private final AccountKeys keys;
    private final UpstreamMonitor monitor;
    private final String version;
    private final Duration firstWait;

    HealthEndpoint(List<Account> accounts, AccountKeys keys, UpstreamMonitor monitor, String version,
                   Duration firstWait) {
        this.accounts = List.copyOf(accounts);
        this.keys = keys;
        this.monitor = monitor;
        this.version = version;
        this.firstWait = firstWait;
    }

    /**
     * The endpoint for a running daemon: probes with {@code imapProbe} and {@code smtpProbe} (those of
     * {@code mailproxy check}) every {@code mailproxy.http.health-interval}.
     */
    public static HealthEndpoint create(MailproxyConfig config, AccountKeys keys, UpstreamProbe imapProbe,
                                        UpstreamProbe smtpProbe, String version) {
        UpstreamMonitor monitor = new UpstreamMonitor(config.accounts(),
                imapProbe, config.imap().upstreamConnectTimeout().plus(UpstreamMonitor.EXTRA_WAIT),
                smtpProbe, config.smtp().upstreamConnectTimeout().plus(UpstreamMonitor.EXTRA_WAIT),
                config.httpHealthInterval(), Clock.systemUTC());
        return new HealthEndpoint(config.accounts(), keys, monitor, version, FIRST_WAIT);
    }

    @Override
    public boolean serves(String path) {
        return "/health".equals(path);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        if (!Exchanges.readOnly(exchange)) {
            return;
        }
        monitor.start();
        monitor.awaitFirstRound(firstWait);
        // Another machine (when http.listen is beyond loopback: a container's HEALTHCHECK runs inside it) learns
        // whether the proxy is healthy, not which accounts it serves or where their providers are.
        Report report = report(Exchanges.fromLoopback(exchange));
        Exchanges.respond(exchange, report.ok() ? 200 : 503, CONTENT_TYPE, report.json());
    }

    record Report(boolean ok, String json) {
    }

    /** One account's state, gathered before anything is written (the overall status comes first in the JSON). */
    private record AccountState(Account account, Optional<UpstreamMonitor.Check> imap,
                                Optional<UpstreamMonitor.Check> smtp, AccountKeys.State key) {
        boolean ok() {
            return reachable(imap) && reachable(smtp) && key == AccountKeys.State.UNLOCKED;
        }
    }

    private static boolean reachable(Optional<UpstreamMonitor.Check> check) {
        return check.map(UpstreamMonitor.Check::reachable).orElse(false);
    }

    /** The answer as it stands now, with each account's state. */
    Report report() {
        return report(true);
    }

    /** @param detailed with each account's address, upstreams and key state; else the overall status only */
    Report report(boolean detailed) {
        List<AccountState> states = accounts.stream().map(a -> new AccountState(a, monitor.last(a.imapUpstream()),
                monitor.last(a.smtpUpstream()), keys.status(a.email()).state())).toList();
        boolean ok = states.stream().allMatch(AccountState::ok);
        JsonWriter json = new JsonWriter().beginObject()
                .name("status").value(ok ? "ok" : "degraded")
                .name("version").value(version);
        if (!detailed) {
            return new Report(ok, json.name("accounts_ok").value(states.stream().filter(AccountState::ok).count())
                    .name("accounts_total").value(states.size()).endObject() + "\n");
        }
        json.name("accounts").beginArray();
        for (AccountState s : states) {
            json.beginObject().name("email").value(s.account().email());
            upstream(json.name("imap"), s.account().imapUpstream(), s.imap());
            upstream(json.name("smtp"), s.account().smtpUpstream(), s.smtp());
            json.name("key").value(keyWord(s.key())).endObject();
        }
        return new Report(ok, json.endArray().endObject() + "\n");
    }

    private static void upstream(JsonWriter json, UpstreamEndpoint upstream, Optional<UpstreamMonitor.Check> check) {
        boolean reachable = reachable(check);
        json.beginObject()
                .name("upstream").value(upstream.toString())
                .name("reachable").value(reachable)
                .name("checked").value(check.map(c -> c.checked().toString()).orElse(null));
        if (!reachable) {
            json.name("reason").value(check.map(UpstreamMonitor.Check::reason).orElse("not checked yet"));
        }
        json.endObject();
    }

    /** {@code unlocked}, {@code locked}, {@code no-secret-key}, {@code several-keys}. */
    static String keyWord(AccountKeys.State state) {
        return switch (state) {
            case UNLOCKED -> "unlocked";
            case LOCKED -> "locked";
            case NO_SECRET_KEY -> "no-secret-key";
            case SEVERAL_KEYS -> "several-keys";
            case NO_SUCH_ACCOUNT -> "no-such-account";
        };
    }

    @Override
    public void close() {
        monitor.close();
    }
}
