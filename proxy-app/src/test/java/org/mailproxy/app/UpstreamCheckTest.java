package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.mailproxy.config.Account;
import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.Protocol;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.UpstreamProbe;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The verdict lines of {@code mailproxy check}, with probes that answer what the test says. */
class UpstreamCheckTest {

    private static final Account ALICE = new Account("alice@example.com", "alice",
            UpstreamEndpoint.parse("imaps://imap.example.com", Protocol.IMAP),
            UpstreamEndpoint.parse("smtp+starttls://smtp.example.com", Protocol.SMTP));

    private static UpstreamProbe answering(ProbeResult result) {
        return (account, credentials) -> CompletableFuture.completedFuture(result);
    }

    private static List<UpstreamCheck.Verdict> check(UpstreamProbe imap, UpstreamProbe smtp) {
        return new UpstreamCheck(imap, smtp, Duration.ofMillis(200))
                .run(List.of(ALICE), Duration.ofMillis(100), Duration.ofMillis(100), a -> Optional.empty());
    }

    @Test
    void okLinesNameTheUpstreamAndListCapabilities() {
        List<UpstreamCheck.Verdict> v = check(
                answering(new ProbeResult(Outcome.OK, "", List.of("IMAP4rev1", "IDLE", "AUTH=PLAIN"))),
                answering(new ProbeResult(Outcome.OK, "", List.of("PIPELINING", "AUTH PLAIN LOGIN"))));
        assertThat(v).extracting(UpstreamCheck.Verdict::line).containsExactly(
                "alice@example.com  IMAP  imaps://imap.example.com:993  OK  IMAP4rev1 IDLE AUTH=PLAIN",
                "alice@example.com  SMTP  smtp+starttls://smtp.example.com:587  OK  PIPELINING AUTH PLAIN LOGIN");
        assertThat(v).allMatch(UpstreamCheck.Verdict::ok);
    }

    @Test
    void eachFailureSaysWhichInWords() {
        assertThat(check(answering(new ProbeResult(Outcome.CONNECTION_REFUSED, "imap.example.com:993", List.of())),
                answering(new ProbeResult(Outcome.BAD_CERTIFICATE, "PKIX path building failed", List.of())))
        ).extracting(UpstreamCheck.Verdict::line).containsExactly(
                "alice@example.com  IMAP  imaps://imap.example.com:993  FAILED  connection refused (nothing listens on that port): imap.example.com:993",
                "alice@example.com  SMTP  smtp+starttls://smtp.example.com:587  FAILED  certificate not trusted / host name mismatch: PKIX path building failed");
        assertThat(UpstreamCheck.explain(Outcome.AUTH_FAILED)).startsWith("login refused");
        assertThat(UpstreamCheck.explain(Outcome.STARTTLS_UNAVAILABLE)).startsWith("STARTTLS not offered");
    }

    @Test
    void aProbeThatNeverAnswersIsUnreachableAndOneThatThrowsIsAFailure() {
        List<UpstreamCheck.Verdict> v = check((a, c) -> new CompletableFuture<>(), (a, c) -> {
            throw new IllegalStateException("boom");
        });
        assertThat(v.get(0).result().outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(v.get(0).line()).contains("FAILED  unreachable").contains("no answer within");
        assertThat(v.get(1).ok()).isFalse();
        assertThat(v.get(1).line()).contains("boom");
    }

    @Test
    void credentialsAreHandedToBothProbes() {
        List<Optional<UpstreamProbe.Credentials>> seen = new ArrayList<>();
        UpstreamProbe recording = (a, c) -> {
            seen.add(c);
            return CompletableFuture.completedFuture(new ProbeResult(Outcome.AUTH_FAILED, "", List.of()));
        };
        char[] password = "secret".toCharArray();
        List<UpstreamCheck.Verdict> v = new UpstreamCheck(recording, recording, Duration.ofSeconds(1)).run(List.of(ALICE),
                Duration.ofSeconds(1), Duration.ofSeconds(1),
                a -> Optional.of(new UpstreamProbe.Credentials(a.login(), password)));
        assertThat(seen).hasSize(2).allSatisfy(c -> assertThat(c).hasValueSatisfying(cr -> assertThat(cr.login()).isEqualTo("alice")));
        assertThat(v).allSatisfy(x -> assertThat(x.line()).contains("login refused").doesNotContain("secret"));
    }
}
