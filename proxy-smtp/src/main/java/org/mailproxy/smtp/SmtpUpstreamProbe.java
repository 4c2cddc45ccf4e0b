package org.mailproxy.smtp;

import org.mailproxy.config.Account;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.UpstreamProbe;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** STUB: probes an account's SMTP upstream for mailproxy check; replaced by the real probe. */
public final class SmtpUpstreamProbe implements UpstreamProbe {
    private final ProxyContext context;

    public SmtpUpstreamProbe(ProxyContext context) {
        this.context = context;
    }

    @Override
    public CompletionStage<ProbeResult> probe(Account account, Optional<Credentials> credentials) {
        return CompletableFuture.completedFuture(new ProbeResult(ProbeResult.Outcome.PROTOCOL_ERROR, "not built yet", List.of()));
    }
}
