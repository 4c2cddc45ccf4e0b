package org.mailproxy.app.setup;

import org.mailproxy.config.UpstreamEndpoint;

import java.util.Objects;
import java.util.Optional;

/**
 * One provider server that discovery found: where it is and how TLS starts there, the login name the provider asks
 * for (when the source says; DNS SRV never does) and where the answer came from, shown to the person confirming it.
 */
public record DiscoveredServer(UpstreamEndpoint endpoint, Optional<String> username, String source) {
    public DiscoveredServer {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(source, "source");
    }

    /**
     * True when the answer came over HTTPS from the domain's own web server, so the domain owner vouches for it;
     * DNS answers and plain HTTP could have been forged on the way.
     */
    public boolean authenticated() {
        return source.startsWith("https://");
    }
}
