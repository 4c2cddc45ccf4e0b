package org.mailproxy.core.net;

import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * What every protocol side shares: the validated configuration, the event loops, TLS both ways and the meter
 * registry. Built once by the daemon.
 */
public record ProxyContext(MailproxyConfig config, EventLoops loops, UpstreamTls upstreamTls, LocalTls localTls,
                           MeterRegistry meters) {
}
