package org.mailproxy.imap.session;

import io.netty.channel.Channel;
import org.mailproxy.imap.protocol.Capabilities;

/** A connection to the provider after TLS, greeting and CAPABILITY, ready for a login with the proxy's tags. */
public record UpstreamLink(Channel channel, Capabilities capabilities, TagSequence tags) {
}
