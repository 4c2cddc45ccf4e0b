package org.mailproxy.core.net;

import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.LocalAuth;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;

import io.micrometer.core.instrument.MeterRegistry;

import java.util.Objects;

/**
 * What every protocol side shares: the validated configuration, the event loops, TLS both ways, the meter
 * registry, the accounts' OpenPGP keys (unlocked at daemon start or by {@code mailproxy keys unlock}) and local
 * authentication (in force when a listener is beyond loopback). Built once
 * by the daemon.
 */
public record ProxyContext(MailproxyConfig config, EventLoops loops, UpstreamTls upstreamTls, LocalTls localTls,
                           MeterRegistry meters, AccountKeys accountKeys, LocalAuth localAuth) {

    public ProxyContext {
        Objects.requireNonNull(accountKeys, "accountKeys");
        Objects.requireNonNull(localAuth, "localAuth");
    }

    /** A context where clients log in with their provider credentials ({@link LocalAuth#off()}). */
    public ProxyContext(MailproxyConfig config, EventLoops loops, UpstreamTls upstreamTls, LocalTls localTls,
                        MeterRegistry meters, AccountKeys accountKeys) {
        this(config, loops, upstreamTls, localTls, meters, accountKeys, LocalAuth.off());
    }

    /** A context whose accounts have no keys ({@link AccountKeys#empty()}): checks and relay tests. */
    public ProxyContext(MailproxyConfig config, EventLoops loops, UpstreamTls upstreamTls, LocalTls localTls,
                        MeterRegistry meters) {
        this(config, loops, upstreamTls, localTls, meters, AccountKeys.empty(), LocalAuth.off());
    }
}
