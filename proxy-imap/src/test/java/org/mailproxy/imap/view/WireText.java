package org.mailproxy.imap.view;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.mailproxy.imap.codec.FetchResponseWriter;
import org.mailproxy.imap.codec.ImapValue;
import org.mailproxy.imap.codec.ImapWireEncoder;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Renders FETCH items exactly as the proxy writes them on the wire (FetchResponseWriter, ImapWireEncoder). */
final class WireText {

    private WireText() {
    }

    /** {@code * number FETCH (name value)\r\n} as octets. */
    static byte[] fetch(long number, String name, ImapValue value) {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapWireEncoder());
        for (Object m : new FetchResponseWriter(number).item(name, value).end()) {
            ch.writeOutbound(m);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            out.writeBytes(a);
            b.release();
        }
        ch.finishAndReleaseAll();
        return out.toByteArray();
    }

    /** Just the value as text (literals inline, as they go on the wire). */
    static String value(ImapValue value) {
        String line = new String(fetch(1, "X", value), StandardCharsets.ISO_8859_1);
        return line.substring("* 1 FETCH (X ".length(), line.length() - 3);
    }
}
