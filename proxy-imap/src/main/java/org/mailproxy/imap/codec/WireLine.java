package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBufHolder;

/**
 * One line piece on the wire: its octets without the literal marker and CRLF, and the literal announced at its end
 * (null when the line ends the command or response). {@link ImapWireEncoder} writes it back with an exact count.
 */
public interface WireLine extends ByteBufHolder {
    LiteralSpec literal();
}
