package org.mailproxy.core.net;

import org.mailproxy.config.Account;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Connects to an account's upstream the way a session would, for {@code mailproxy check}. */
public interface UpstreamProbe {

    /** A login to try; the password is only held for the probe and never stored or logged. */
    record Credentials(String login, char[] password) {
    }

    CompletionStage<ProbeResult> probe(Account account, Optional<Credentials> credentials);
}
