package org.mailproxy.app.http;

import org.mailproxy.config.Account;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.UpstreamProbe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Whether each upstream answers, learned in the background and kept for {@code /health}, so that a health check
 * never waits for a provider. Each distinct upstream (accounts may share one) is probed the way
 * {@code mailproxy check} does without credentials: TCP connect, TLS with certificate verification, greeting and
 * capabilities, never a login (a health check every few seconds must not look like a password attack to the
 * provider).
 *
 * <p>At most one probe per upstream runs at a time, and one starts per upstream per interval at most. Probing
 * starts with {@link #start()} (the first {@code /health} request), so a daemon nobody checks does not contact
 * its providers. A probe that does not finish within its time limit (the protocol's connect timeout plus
 * {@link #EXTRA_WAIT}, see {@link HealthEndpoint#create}) counts as unreachable.
 */
final class UpstreamMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(UpstreamMonitor.class);

    /** Past the connect timeout: TLS handshake, greeting and capabilities take a few round trips. */
    static final Duration EXTRA_WAIT = Duration.ofSeconds(5);

    /** The last thing learned about one upstream. {@code reason} is empty when it was reachable. */
    record Check(boolean reachable, Instant checked, String reason) {
    }

    /** What probes one upstream: the probe, an account that uses it (the probe wants one) and the time limit. */
    private record Target(UpstreamProbe probe, Account account, Duration timeout) {
    }

    private final Map<UpstreamEndpoint, Target> targets = new LinkedHashMap<>();
    private final Duration interval;
    private final Clock clock;
    private final Map<UpstreamEndpoint, Check> checks = new ConcurrentHashMap<>();
    private final Set<UpstreamEndpoint> inFlight = ConcurrentHashMap.newKeySet();
    private final CountDownLatch firstRound;
    private ScheduledExecutorService timer;
    /** Set on close: probes cut short by the daemon stopping say nothing about the upstream. */
    private volatile boolean closed;

    /**
     * @param imapTimeout how long an IMAP probe may take before the upstream counts as unreachable
     * @param smtpTimeout the same for SMTP
     */
    UpstreamMonitor(List<Account> accounts, UpstreamProbe imap, Duration imapTimeout, UpstreamProbe smtp,
                    Duration smtpTimeout, Duration interval, Clock clock) {
        for (Account a : accounts) {
            targets.putIfAbsent(a.imapUpstream(), new Target(imap, a, imapTimeout));
            targets.putIfAbsent(a.smtpUpstream(), new Target(smtp, a, smtpTimeout));
        }
        this.interval = interval;
        this.clock = clock;
        this.firstRound = new CountDownLatch(targets.size());
    }

    /** Starts probing every interval, beginning now; later calls do nothing. */
    synchronized void start() {
        if (timer != null || closed || targets.isEmpty()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mailproxy-health");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                probeAll();
            } catch (RuntimeException e) {
                // An exception would silently end the schedule; /health would then report stale results forever.
                LOG.warn("health probes: {}", e.toString());
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits at most {@code patience} until every upstream has been probed once; true when it has. */
    boolean awaitFirstRound(Duration patience) {
        try {
            return firstRound.await(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The last result for {@code upstream}, empty before its first probe finished. */
    Optional<Check> last(UpstreamEndpoint upstream) {
        return Optional.ofNullable(checks.get(upstream));
    }

    /** One round: a probe for each upstream whose previous probe has finished. The timer calls this. */
    void probeAll() {
        targets.forEach((upstream, target) -> {
            if (!inFlight.add(upstream)) {
                return; // the previous probe of this upstream is still running
            }
            CompletableFuture<ProbeResult> probe;
            try {
                probe = target.probe().probe(target.account(), Optional.empty()).toCompletableFuture();
            } catch (RuntimeException e) {
                probe = CompletableFuture.failedFuture(e);
            }
            probe.orTimeout(target.timeout().toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((result, failure) -> record(upstream, result, failure));
        });
    }

    private void record(UpstreamEndpoint upstream, ProbeResult result, Throwable failure) {
        if (closed) {
            return;
        }
        Check check;
        if (failure != null) {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            check = new Check(false, clock.instant(), cause instanceof TimeoutException
                    ? "no answer in time" : "probe failed");
            if (!(cause instanceof TimeoutException)) {
                LOG.warn("health probe of {} failed: {}", upstream, cause.toString());
            }
        } else if (result.ok()) {
            check = new Check(true, clock.instant(), "");
        } else {
            check = new Check(false, clock.instant(), reason(result.outcome()));
        }
        Check before = checks.put(upstream, check);
        if (before == null) {
            firstRound.countDown();
        } else if (before.reachable() != check.reachable()) {
            LOG.info("upstream {} is {}", upstream, check.reachable() ? "reachable again" : "unreachable: " + check.reason());
        }
        inFlight.remove(upstream);
    }

    /**
     * A few words for each outcome. The probe's own detail is left out: it can carry exception text from deep in
     * the TLS stack, and these words are enough to know where to look ({@code mailproxy check} says more).
     */
    static String reason(ProbeResult.Outcome outcome) {
        return switch (outcome) {
            case OK -> "";
            case CONNECTION_REFUSED -> "connection refused";
            case UNREACHABLE -> "no answer, or the name does not resolve";
            case BAD_CERTIFICATE -> "certificate not trusted or host name mismatch";
            case TLS_FAILED -> "TLS handshake failed";
            case STARTTLS_UNAVAILABLE -> "STARTTLS not offered or refused";
            case AUTH_FAILED -> "login refused";
            case PROTOCOL_ERROR -> "answer is not the expected protocol";
        };
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
