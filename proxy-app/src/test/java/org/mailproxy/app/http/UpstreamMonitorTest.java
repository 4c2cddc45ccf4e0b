package org.mailproxy.app.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.config.Account;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.UpstreamProbe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The background probing behind {@code /health}: one probe per distinct upstream and round, none while the previous
 * one runs, results kept with the time they arrived, a probe that never answers counted as unreachable.
 */
class UpstreamMonitorTest {

    private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    /** Records every probe and leaves its result to the test. */
    private static final class ManualProbe implements UpstreamProbe {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final Map<String, CompletableFuture<ProbeResult>> pending = new ConcurrentHashMap<>();
        final UpstreamEndpoint.Protocol protocol;

        ManualProbe(UpstreamEndpoint.Protocol protocol) {
            this.protocol = protocol;
        }

        @Override
        public CompletionStage<ProbeResult> probe(Account account, Optional<Credentials> credentials) {
            assertThat(credentials).as("a health probe never logs in").isEmpty();
            String upstream = (protocol == UpstreamEndpoint.Protocol.IMAP ? account.imapUpstream() : account.smtpUpstream()).toString();
            calls.add(upstream);
            CompletableFuture<ProbeResult> f = new CompletableFuture<>();
            pending.put(upstream, f);
            return f;
        }

        void answer(String upstream, Outcome outcome) {
            pending.remove(upstream).complete(new ProbeResult(outcome, "detail with secrets? no", List.of()));
        }
    }

    private final ManualProbe imap = new ManualProbe(UpstreamEndpoint.Protocol.IMAP);
    private final ManualProbe smtp = new ManualProbe(UpstreamEndpoint.Protocol.SMTP);
    private UpstreamMonitor monitor;

    @AfterEach
    void close() {
        if (monitor != null) {
            monitor.close();
        }
    }

    private static Account account(String email, String imapUrl, String smtpUrl) {
        return new Account(email, email, UpstreamEndpoint.parse(imapUrl, UpstreamEndpoint.Protocol.IMAP),
                UpstreamEndpoint.parse(smtpUrl, UpstreamEndpoint.Protocol.SMTP));
    }

    private UpstreamMonitor monitor(List<Account> accounts, Duration timeout) {
        monitor = new UpstreamMonitor(accounts, imap, timeout, smtp, timeout, Duration.ofMinutes(10),
                Clock.fixed(NOW, ZoneOffset.UTC));
        return monitor;
    }

    @Test
    void aHealthAnswerForAnotherMachineNamesNoAccountOrUpstream() {
        Account a = account("secret-name@example.test", "imaps://imap.private.example.test", "smtps://smtp.private.example.test");
        HealthEndpoint health = new HealthEndpoint(List.of(a), org.mailproxy.core.crypto.openpgp.AccountKeys.empty(),
                monitor(List.of(a), Duration.ofMinutes(1)), "1.0", Duration.ZERO);
        HealthEndpoint.Report remote = health.report(false);
        assertThat(remote.ok()).isFalse();
        assertThat(remote.json()).contains("\"status\":\"degraded\"", "\"accounts_ok\":0", "\"accounts_total\":1")
                .doesNotContain("secret-name", "private.example.test");
        assertThat(health.report(true).json()).contains("secret-name@example.test", "imap.private.example.test");
    }

    @Test
    void accountsSharingAnUpstreamCauseOneProbeOfIt() {
        UpstreamMonitor m = monitor(List.of(
                account("a@example.test", "imaps://mail.example.test", "smtps://mail.example.test"),
                account("b@example.test", "imaps://mail.example.test", "smtps://other.example.test")), Duration.ofMinutes(1));
        m.probeAll();
        assertThat(imap.calls).containsExactly("imaps://mail.example.test:993");
        assertThat(smtp.calls).containsExactly("smtps://mail.example.test:465", "smtps://other.example.test:465");
    }

    @Test
    void noSecondProbeOfAnUpstreamWhileTheFirstRuns() {
        UpstreamMonitor m = monitor(List.of(account("a@example.test", "imaps://imap.example.test", "smtps://smtp.example.test")),
                Duration.ofMinutes(1));
        m.probeAll();
        m.probeAll();
        m.probeAll();
        assertThat(imap.calls).hasSize(1);
        assertThat(m.last(UpstreamEndpoint.parse("imaps://imap.example.test", UpstreamEndpoint.Protocol.IMAP))).isEmpty();
        assertThat(m.awaitFirstRound(Duration.ZERO)).isFalse();

        imap.answer("imaps://imap.example.test:993", Outcome.OK);
        smtp.answer("smtps://smtp.example.test:465", Outcome.CONNECTION_REFUSED);
        assertThat(m.awaitFirstRound(Duration.ZERO)).isTrue();
        assertThat(m.last(UpstreamEndpoint.parse("imaps://imap.example.test", UpstreamEndpoint.Protocol.IMAP)))
                .contains(new UpstreamMonitor.Check(true, NOW, ""));
        assertThat(m.last(UpstreamEndpoint.parse("smtps://smtp.example.test", UpstreamEndpoint.Protocol.SMTP)))
                .contains(new UpstreamMonitor.Check(false, NOW, "connection refused"));

        m.probeAll();
        assertThat(imap.calls).hasSize(2);
        assertThat(smtp.calls).hasSize(2);
    }

    @Test
    void aProbeThatNeverAnswersCountsAsUnreachableAndTheNextRoundProbesAgain() {
        UpstreamMonitor m = monitor(List.of(account("a@example.test", "imaps://imap.example.test", "smtps://smtp.example.test")),
                Duration.ofMillis(50));
        m.probeAll();
        UpstreamEndpoint up = UpstreamEndpoint.parse("imaps://imap.example.test", UpstreamEndpoint.Protocol.IMAP);
        await().atMost(Duration.ofSeconds(5)).until(() -> m.last(up).isPresent());
        assertThat(m.last(up)).contains(new UpstreamMonitor.Check(false, NOW, "no answer in time"));
        m.probeAll();
        assertThat(imap.calls).hasSize(2);
    }

    @Test
    void aProbeThatThrowsIsAFailedCheckNotAStuckOne() {
        UpstreamProbe throwing = (account, credentials) -> {
            throw new IllegalStateException("boom");
        };
        monitor = new UpstreamMonitor(List.of(account("a@example.test", "imaps://imap.example.test", "smtps://smtp.example.test")),
                throwing, Duration.ofMinutes(1), throwing, Duration.ofMinutes(1), Duration.ofMinutes(10),
                Clock.fixed(NOW, ZoneOffset.UTC));
        monitor.probeAll();
        assertThat(monitor.awaitFirstRound(Duration.ZERO)).isTrue();
        assertThat(monitor.last(UpstreamEndpoint.parse("smtps://smtp.example.test", UpstreamEndpoint.Protocol.SMTP)))
                .contains(new UpstreamMonitor.Check(false, NOW, "probe failed"));
    }

    @Test
    void everyOutcomeHasShortWords() {
        for (Outcome o : Outcome.values()) {
            assertThat(UpstreamMonitor.reason(o)).hasSizeLessThan(60);
        }
    }
}
