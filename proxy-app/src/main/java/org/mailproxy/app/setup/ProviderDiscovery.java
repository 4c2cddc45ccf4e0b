package org.mailproxy.app.setup;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Guesses an address's IMAP and SMTP servers: Thunderbird autoconfig first, DNS SRV (RFC 6186) second.
 *
 * <p>Why this order: an autoconfig answer comes over HTTPS from the domain itself, so it is the domain owner's word,
 * and it also names the login the provider wants; an SRV answer is plain DNS, which anyone who can answer the
 * user's DNS queries can forge (no DNSSEC validation here). So both are asked and, per protocol, the autoconfig
 * server wins; SRV only fills a protocol autoconfig did not give. When both name a server and they differ, a note
 * says so, and the person running {@code mailproxy init} sees both. Nothing found is not an error: the settings
 * are then asked for (or taken from flags).
 */
public final class ProviderDiscovery {

    private final AutoconfigClient autoconfig;
    private final SrvDiscovery srv;

    public ProviderDiscovery(AutoconfigClient autoconfig, SrvDiscovery srv) {
        this.autoconfig = autoconfig;
        this.srv = srv;
    }

    public DiscoveryResult discover(String email) {
        DiscoveryResult a = autoconfig.discover(email);
        DiscoveryResult d = srv.discover(email);
        List<String> notes = new ArrayList<>(a.notes());
        notes.addAll(d.notes());
        return new DiscoveryResult(pick(a.imap(), d.imap(), notes), pick(a.smtp(), d.smtp(), notes), notes);
    }

    private static Optional<DiscoveredServer> pick(Optional<DiscoveredServer> fromAutoconfig,
                                                   Optional<DiscoveredServer> fromSrv, List<String> notes) {
        if (fromAutoconfig.isPresent() && fromSrv.isPresent()
                && !fromAutoconfig.get().endpoint().equals(fromSrv.get().endpoint())) {
            notes.add(fromSrv.get().source() + " names " + fromSrv.get().endpoint() + ", autoconfig names "
                    + fromAutoconfig.get().endpoint() + "; autoconfig (over HTTPS) is used");
        }
        return fromAutoconfig.isPresent() ? fromAutoconfig : fromSrv;
    }
}
