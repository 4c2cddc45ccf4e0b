package org.mailproxy.app.setup;

import java.util.List;
import java.util.Optional;

/**
 * What discovery found for an address: the IMAP and SMTP server to use (either may be missing) and notes for the
 * person running {@code mailproxy init} (servers refused because they offer no TLS, sources that disagreed, sources
 * that failed).
 */
public record DiscoveryResult(Optional<DiscoveredServer> imap, Optional<DiscoveredServer> smtp, List<String> notes) {

    public DiscoveryResult {
        notes = List.copyOf(notes);
    }

    static DiscoveryResult empty(List<String> notes) {
        return new DiscoveryResult(Optional.empty(), Optional.empty(), notes);
    }

    /** True when both an IMAP and an SMTP server were found. */
    public boolean complete() {
        return imap.isPresent() && smtp.isPresent();
    }

    /** The login name a source suggested: the IMAP server's first, else the SMTP server's. */
    public Optional<String> username() {
        return imap.flatMap(DiscoveredServer::username).or(() -> smtp.flatMap(DiscoveredServer::username));
    }
}
