package org.mailproxy.app;

import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.mailproxy.config.Account;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.LocalTls.Mode;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.PassphraseSource;
import org.mailproxy.app.http.AutoconfigEndpoint;
import org.mailproxy.app.http.HealthEndpoint;
import org.mailproxy.app.http.HttpListener;
import org.mailproxy.app.http.MetricsEndpoint;
import org.mailproxy.core.net.EventLoops;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.ProxyService;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;
import org.mailproxy.imap.ImapProxy;
import org.mailproxy.imap.ImapUpstreamProbe;
import org.mailproxy.smtp.SmtpProxy;
import org.mailproxy.smtp.SmtpUpstreamProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The running proxy: the IMAP and SMTP listeners and the HTTP listener (metrics, health, client autoconfiguration),
 * built from one validated configuration.
 *
 * <p>Starting refuses, with one message naming file, line and key, what would make the daemon unsafe or useless:
 * a listen address beyond loopback (SECURITY.md 22; binding wider needs local authentication first), a taken port,
 * a data directory others can read (SECURITY.md 23). Stopping is what SIGTERM does: stop accepting everywhere,
 * let SMTP transactions in flight finish within {@code mailproxy.shutdown.grace-period}, close IMAP sessions, then
 * shut the event loops down.
 *
 * <p>Keys: the keyring in {@code data-dir/keys} is opened (refused when others can read it), and each account
 * whose {@code key} block names a passphrase file or systemd credential is unlocked before anything listens; a
 * wrong passphrase or an unreadable source stops the start with one line naming the setting. Other accounts start
 * locked until {@code mailproxy keys unlock} sends a passphrase over the {@link ControlSocket}.
 */
public final class Daemon implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

    private final MailproxyConfig config;
    private final ProxyContext context;
    private final PrometheusMeterRegistry registry;
    private final ProxyService imap;
    private final ProxyService smtp;
    private final Optional<ProxyService> http;
    private final ControlSocket control;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private boolean stopping;

    private Daemon(MailproxyConfig config, ProxyContext context, PrometheusMeterRegistry registry,
                   ProxyService imap, ProxyService smtp, Optional<ProxyService> http, ControlSocket control) {
        this.config = config;
        this.control = control;
        this.context = context;
        this.registry = registry;
        this.imap = imap;
        this.smtp = smtp;
        this.http = http;
    }

    /** Starts the daemon with the IMAP and SMTP relays. */
    public static Daemon start(MailproxyConfig config) {
        return start(config, System.getenv());
    }

    /** As {@link #start(MailproxyConfig)}; {@code environment} supplies {@code CREDENTIALS_DIRECTORY}. */
    static Daemon start(MailproxyConfig config, Map<String, String> environment) {
        return start(config, environment, ImapProxy::new, SmtpProxy::new);
    }

    static Daemon start(MailproxyConfig config, Function<ProxyContext, ProxyService> imapFactory,
                        Function<ProxyContext, ProxyService> smtpFactory) {
        return start(config, System.getenv(), imapFactory, smtpFactory);
    }

    /**
     * Starts the daemon with the given listeners (tests use this to exercise start-up and shutdown without a
     * relay). Throws {@link ConfigError} for anything the user has to fix; nothing is left listening then.
     */
    static Daemon start(MailproxyConfig config, Map<String, String> environment,
                        Function<ProxyContext, ProxyService> imapFactory,
                        Function<ProxyContext, ProxyService> smtpFactory) {
        RemoteAccessRules.verify(config);
        Path dataDir = DataDirectory.prepare(config);

        UpstreamTls upstreamTls;
        try {
            upstreamTls = UpstreamTls.create(config.trustedCaFile());
        } catch (IllegalStateException e) {
            throw new ConfigError(config.describe("mailproxy.tls.trusted-ca-file") + ": " + e.getMessage(), e);
        }
        LocalTls localTls = localTls(config, dataDir);
        AccountKeys keys = accountKeys(config, dataDir, environment);

        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);

        LocalAuth localAuth = localAuth(config, dataDir, keys);
        EventLoops loops = new EventLoops(workerThreads());
        ProxyContext context = new ProxyContext(config, loops, upstreamTls, localTls, registry, keys, localAuth);
        List<ProxyService> started = new ArrayList<>();
        ControlSocket control = null;
        try {
            ProxyService imap = imapFactory.apply(context);
            ProxyService smtp = smtpFactory.apply(context);
            listen(config, "mailproxy.imap.listen", config.imap().listen(), imap, started);
            listen(config, "mailproxy.smtp.listen", config.smtp().listen(), smtp, started);
            // After the mail listeners: the autoconfiguration names their bound ports.
            Optional<ProxyService> http = config.httpListen().map(l -> httpListener(l, context, registry, imap, smtp));
            if (http.isPresent()) {
                listen(config, "mailproxy.http.listen", config.httpListen().get(), http.get(), started);
            }
            control = ControlSocket.start(config, dataDir, keys);
            Daemon daemon = new Daemon(config, context, registry, imap, smtp, http, control);
            LOG.info("mailproxy ready: imap {}, smtp {}, http {}, {} account(s), data in {}",
                    address(imap.boundAddress()), address(smtp.boundAddress()),
                    http.map(m -> "http://" + address(m.boundAddress()) + "/").orElse("off"),
                    config.accounts().size(), dataDir);
            if (config.accounts().isEmpty()) {
                LOG.warn("no accounts in {}: every login will be refused until mailproxy.accounts lists one",
                        config.source());
            }
            return daemon;
        } catch (RuntimeException e) {
            for (ProxyService s : started) {
                s.stopAccepting();
                s.drainAndClose(Duration.ZERO);
            }
            if (control != null) {
                control.close();
            }
            loops.shutdown(Duration.ofSeconds(2));
            registry.close();
            keys.close();
            throw e;
        }
    }

    /** {@code /metrics}, {@code /health} (probing as {@code mailproxy check} does) and the autoconfiguration. */
    private static ProxyService httpListener(ListenAddress listen, ProxyContext context,
                                             PrometheusMeterRegistry registry, ProxyService imap, ProxyService smtp) {
        MailproxyConfig config = context.config();
        return new HttpListener(listen, List.of(
                new MetricsEndpoint(registry),
                HealthEndpoint.create(config, context.accountKeys(), new ImapUpstreamProbe(context),
                        new SmtpUpstreamProbe(context), Version.current()),
                new AutoconfigEndpoint(config.accounts(),
                        new AutoconfigEndpoint.Listener(config.imap().listen().host(), imap.boundAddress().getPort()),
                        new AutoconfigEndpoint.Listener(config.smtp().listen().host(), smtp.boundAddress().getPort()),
                        config.localTls().mode())));
    }

    /**
     * Opens the accounts' keys and unlocks those with a passphrase source. Logs one line per account saying whether
     * its key is unlocked, locked (and how to unlock it) or absent (decryption and signing unavailable).
     */
    private static AccountKeys accountKeys(MailproxyConfig config, Path dataDir, Map<String, String> environment) {
        Map<String, Optional<String>> accounts = new LinkedHashMap<>();
        for (Account a : config.accounts()) {
            accounts.put(a.email(), a.key().fingerprint());
        }
        AccountKeys keys;
        try {
            keys = AccountKeys.open(dataDir.resolve("keys"), accounts);
        } catch (IOException e) {
            throw new ConfigError(config.describe("mailproxy.data-dir") + ": " + e.getMessage(), e);
        }
        try {
            for (int i = 0; i < config.accounts().size(); i++) {
                unlockAtStart(config, i, keys, environment);
            }
        } catch (RuntimeException e) {
            keys.close();
            throw e;
        }
        return keys;
    }

    private static void unlockAtStart(MailproxyConfig config, int index, AccountKeys keys,
                                      Map<String, String> environment) {
        Account a = config.accounts().get(index);
        String email = a.email();
        if (a.key().unlocksAtStart()) {
            String setting = "mailproxy.accounts[" + index + "].key."
                    + (a.key().passphraseFile().isPresent() ? "passphrase-file" : "passphrase-credential");
            PassphraseSource source = a.key().passphraseFile().isPresent()
                    ? passphraseFile(a.key().passphraseFile().get())
                    : PassphraseSource.systemdCredential(environment.get("CREDENTIALS_DIRECTORY"),
                            a.key().passphraseCredential().get());
            try {
                String fpr = keys.unlock(email, source).fingerprint();
                LOG.info("account {}: key {} unlocked", email, fpr);
                return;
            } catch (KeyException e) {
                AccountKeys.Failure f = AccountKeys.failure(e).orElse(AccountKeys.Failure.WRONG_PASSPHRASE);
                // Without a secret key there is nothing to unlock, which is not fatal unless the configuration
                // named the key explicitly.
                if (f != AccountKeys.Failure.NO_SECRET_KEY || a.key().fingerprint().isPresent()) {
                    throw new ConfigError(config.describe(setting) + ": " + e.getMessage(), e);
                }
            }
        }
        AccountKeys.Status s = keys.status(email);
        switch (s.state()) {
            case LOCKED -> LOG.info("account {}: key locked; run `mailproxy keys unlock {}`", email, email);
            case NO_SECRET_KEY -> LOG.info("account {}: no secret key, so decryption and signing are unavailable "
                    + "for it ({})", email, s.detail().replace("account " + email.toLowerCase(java.util.Locale.ROOT)
                    + ": ", ""));
            default -> LOG.warn("{}", s.detail());
        }
    }

    /** The first line of an owner-only file, read when the key is unlocked (the same rule as --passphrase-file). */
    private static PassphraseSource passphraseFile(Path file) {
        return () -> {
            try {
                return CheckCommand.readPasswordFile(file);
            } catch (ConfigError e) {
                throw new IOException(e.getMessage(), e);
            }
        };
    }

    /**
     * Local authentication when it is in force: every account gets its local password now if it has none (so a
     * client can be set up before the first login), and an account without a stored provider login is named, since
     * its clients cannot log in until one is stored.
     */
    private static LocalAuth localAuth(MailproxyConfig config, Path dataDir, AccountKeys keys) {
        LocalAuth auth = LocalAuth.of(config, dataDir, keys);
        if (!auth.inForce()) {
            return auth;
        }
        AccountSecrets secrets = AccountSecrets.open(dataDir);
        for (Account a : config.accounts()) {
            try {
                if (secrets.existingLocalPassword(a.email()).isEmpty()) {
                    secrets.localPassword(a.email());
                    LOG.info("account {}: local password generated; `mailproxy accounts show-password {}` shows it",
                            a.email(), a.email());
                }
            } catch (IOException e) {
                throw new ConfigError(config.describe("mailproxy.data-dir") + ": " + e.getMessage(), e);
            }
            if (!secrets.hasProviderLogin(a.email())) {
                LOG.warn("account {}: no provider password stored, so its clients cannot log in; run "
                        + "`mailproxy accounts set-provider-password {}`", a.email(), a.email());
            }
        }
        LOG.info("local authentication in force: clients log in with the accounts' local passwords");
        return auth;
    }

    static LocalTls localTls(MailproxyConfig config, Path dataDir) {
        boolean generated = config.localTls().mode() != Mode.OFF
                && (config.localTls().certFile().isEmpty() || config.localTls().keyFile().isEmpty());
        Path tlsDir = dataDir.resolve("tls");
        try {
            if (generated && !Files.exists(tlsDir)) {
                DataDirectory.createOwnerOnly(tlsDir);
            }
            LocalTls tls = LocalTls.create(config.localTls(), dataDir);
            if (generated) {
                // The certificate itself is public, but the data directory stays owner-only throughout (SECURITY.md 23).
                DataDirectory.restrict(tlsDir.resolve("local-cert.pem"));
            }
            return tls;
        } catch (IllegalStateException | IOException e) {
            String key = generated ? "mailproxy.data-dir" : "mailproxy.local-tls.cert-file";
            throw new ConfigError(config.describe(key) + ": " + e.getMessage(), e);
        }
    }

    private static void listen(MailproxyConfig config, String key, ListenAddress listen, ProxyService service,
                               List<ProxyService> started) {
        try {
            service.start();
            started.add(service);
        } catch (IOException e) {
            if (isAddressInUse(e)) {
                throw new ConfigError(config.describe(key) + ": " + listen + " is already in use", e);
            }
            throw new ConfigError(config.describe(key) + ": cannot listen on " + listen + ": " + e.getMessage(), e);
        }
    }

    private static boolean isAddressInUse(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    || t.getMessage() != null && t.getMessage().toLowerCase().contains("address already in use")) {
                return true;
            }
        }
        return false;
    }

    /** Two to four I/O threads: a personal proxy needs few, and the machine is shared with the mail client. */
    static int workerThreads() {
        return Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    private static String address(InetSocketAddress a) {
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public MailproxyConfig config() {
        return config;
    }

    public ProxyContext context() {
        return context;
    }

    public InetSocketAddress imapAddress() {
        return imap.boundAddress();
    }

    public InetSocketAddress smtpAddress() {
        return smtp.boundAddress();
    }

    /** The control socket's path ({@code data-dir/control.sock}). */
    Path controlSocket() {
        return control.path();
    }

    /** Where the HTTP listener ({@code /metrics}, {@code /health}, autoconfiguration) is bound, unless "off". */
    public Optional<InetSocketAddress> httpAddress() {
        return http.map(ProxyService::boundAddress);
    }

    /** The Prometheus text {@code /metrics} serves. */
    String scrape() {
        return registry.scrape();
    }

    /**
     * Stops the daemon the way SIGTERM does and returns when everything is closed. Safe to call more than once and
     * from a shutdown hook; later calls wait for the first.
     */
    public void stop() {
        synchronized (this) {
            if (stopping) {
                awaitStopped();
                return;
            }
            stopping = true;
        }
        Duration grace = config.shutdownGracePeriod();
        try {
            LOG.info("mailproxy stopping: {} imap and {} smtp session(s) open, waiting up to {}s for SMTP transactions",
                    imap.activeSessions(), smtp.activeSessions(), grace.toSeconds());
            control.close();
            imap.stopAccepting();
            smtp.stopAccepting();
            http.ifPresent(ProxyService::stopAccepting);
            CompletableFuture<Void> drained = CompletableFuture.allOf(
                    smtp.drainAndClose(grace).toCompletableFuture(),
                    imap.drainAndClose(grace).toCompletableFuture());
            try {
                // The services bound their own wait by the grace period; this only guards against one that hangs.
                drained.get(grace.toMillis() + 5_000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.warn("sessions still open {}s after the grace period; closing anyway", 5);
            } catch (ExecutionException e) {
                LOG.warn("closing sessions failed: {}", e.getCause().toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            http.ifPresent(h -> h.drainAndClose(Duration.ZERO));
            context.loops().shutdown(Duration.ofSeconds(5));
            registry.close();
            context.accountKeys().close();
            LOG.info("mailproxy stopped");
        } finally {
            stopped.countDown();
        }
    }

    /** Blocks until {@link #stop()} has finished. */
    public void awaitStopped() {
        boolean interrupted = false;
        while (true) {
            try {
                stopped.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
    }
}
