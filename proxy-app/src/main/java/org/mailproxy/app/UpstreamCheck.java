package org.mailproxy.app;

import org.mailproxy.config.Account;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.UpstreamProbe;
import org.mailproxy.core.net.UpstreamProbe.Credentials;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * What {@code mailproxy check} does after the file validated: probes every account's IMAP and SMTP upstream the
 * way a session would (connect, TLS with verification, capabilities, and a login when credentials were given), all
 * at once, and turns each result into one line a person can act on.
 */
final class UpstreamCheck {

    /** One upstream's result. */
    record Verdict(Account account, UpstreamEndpoint endpoint, ProbeResult result) {

        boolean ok() {
            return result.ok();
        }

        /** {@code alice@example.com  IMAP  imaps://imap.example.com:993  OK  IMAP4rev1 IDLE ...}. */
        String line() {
            String head = account.email() + "  " + endpoint.protocol() + "  " + endpoint + "  ";
            if (result.ok()) {
                String caps = result.capabilities().isEmpty() ? "" : "  " + String.join(" ", result.capabilities());
                String detail = result.detail() == null || result.detail().isBlank() ? "" : " (" + result.detail() + ")";
                return head + "OK" + detail + caps;
            }
            String detail = result.detail() == null || result.detail().isBlank() ? "" : ": " + result.detail();
            return head + "FAILED  " + explain(result.outcome()) + detail;
        }
    }

    /** The words for each outcome; the probe's detail follows them. */
    static String explain(Outcome outcome) {
        return switch (outcome) {
            case OK -> "OK";
            case CONNECTION_REFUSED -> "connection refused (nothing listens on that port)";
            case UNREACHABLE -> "unreachable (no answer, or the name does not resolve)";
            case BAD_CERTIFICATE -> "certificate not trusted / host name mismatch";
            case TLS_FAILED -> "TLS handshake failed";
            case STARTTLS_UNAVAILABLE -> "STARTTLS not offered or refused";
            case AUTH_FAILED -> "login refused (wrong user name or password)";
            case PROTOCOL_ERROR -> "protocol error (the server's answer is not what the protocol says)";
        };
    }

    private final UpstreamProbe imapProbe;
    private final UpstreamProbe smtpProbe;
    private final Duration extraWait;

    /**
     * @param extraWait how long past the configured connect timeout to wait for one probe before calling the
     *                  upstream unreachable (TLS handshake, greeting, capabilities and login all take round trips)
     */
    UpstreamCheck(UpstreamProbe imapProbe, UpstreamProbe smtpProbe, Duration extraWait) {
        this.imapProbe = imapProbe;
        this.smtpProbe = smtpProbe;
        this.extraWait = extraWait;
    }

    /** Probes every account; {@code credentials} gives the login to try for an account, if any. */
    List<Verdict> run(List<Account> accounts, Duration imapConnectTimeout, Duration smtpConnectTimeout,
                      Function<Account, Optional<Credentials>> credentials) {
        record Pending(Account account, UpstreamEndpoint endpoint, CompletableFuture<ProbeResult> result, Duration patience) {
        }
        List<Pending> pending = new ArrayList<>();
        for (Account account : accounts) {
            Optional<Credentials> login = credentials.apply(account);
            pending.add(new Pending(account, account.imapUpstream(),
                    start(imapProbe, account, login), imapConnectTimeout.plus(extraWait)));
            pending.add(new Pending(account, account.smtpUpstream(),
                    start(smtpProbe, account, login), smtpConnectTimeout.plus(extraWait)));
        }
        List<Verdict> verdicts = new ArrayList<>();
        for (Pending p : pending) {
            verdicts.add(new Verdict(p.account(), p.endpoint(), await(p.result(), p.patience())));
        }
        return verdicts;
    }

    private static CompletableFuture<ProbeResult> start(UpstreamProbe probe, Account account, Optional<Credentials> login) {
        try {
            return probe.probe(account, login).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static ProbeResult await(CompletableFuture<ProbeResult> result, Duration patience) {
        try {
            return result.get(patience.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            result.cancel(true);
            return new ProbeResult(Outcome.UNREACHABLE, "no answer within " + patience.toSeconds() + "s", List.of());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new ProbeResult(Outcome.PROTOCOL_ERROR, "probe failed: " + cause, List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProbeResult(Outcome.UNREACHABLE, "interrupted", List.of());
        }
    }
}
