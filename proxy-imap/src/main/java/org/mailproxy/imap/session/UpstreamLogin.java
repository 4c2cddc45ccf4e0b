package org.mailproxy.imap.session;

import io.netty.buffer.Unpooled;
import org.mailproxy.imap.codec.CommandLine;
import org.mailproxy.imap.codec.ContinuationLine;
import org.mailproxy.imap.codec.LiteralChunk;
import org.mailproxy.imap.codec.LiteralSpec;
import org.mailproxy.imap.protocol.Capabilities;
import org.mailproxy.imap.protocol.ImapVerb;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Turns a client's credentials into the login command the provider accepts, under the proxy's tag: the client's
 * SASL mechanism when the provider offers it (with SASL-IR, RFC 4959, or after a "+"), LOGIN otherwise, or
 * AUTHENTICATE PLAIN when the provider announces LOGINDISABLED. Arguments that cannot be quoted become literals,
 * non-synchronizing only when the provider allows it (RFC 7888).
 */
public final class UpstreamLogin {

    private UpstreamLogin() {
    }

    /** The login as the provider accepts it; null if it offers no way to send these credentials. */
    public static OutgoingCommand command(String tag, ClientLogin login, Capabilities upstreamCaps) {
        ClientLogin l = login;
        if (l instanceof ClientLogin.Sasl sasl) {
            if (upstreamCaps.has("AUTH=" + sasl.mechanism())) {
                return authenticate(tag, sasl, upstreamCaps);
            }
            ClientLogin.Password p = sasl.asPassword();
            if (p == null || upstreamCaps.has("LOGINDISABLED")) {
                return null;
            }
            l = p;
        }
        ClientLogin.Password p = (ClientLogin.Password) l;
        if (upstreamCaps.has("LOGINDISABLED")) {
            if (!upstreamCaps.has("AUTH=PLAIN")) {
                return null;
            }
            byte[] ir = new byte[p.user().length + p.password().length + 2];
            System.arraycopy(p.user(), 0, ir, 1, p.user().length);
            System.arraycopy(p.password(), 0, ir, p.user().length + 2, p.password().length);
            return authenticate(tag, new ClientLogin.Sasl("PLAIN", ir), upstreamCaps);
        }
        OutgoingCommand cmd = new OutgoingCommand();
        String head = tag + " LOGIN ";
        List<byte[]> args = List.of(p.user(), p.password());
        StringBuilder line = new StringBuilder(head);
        for (int i = 0; i < args.size(); i++) {
            byte[] arg = args.get(i);
            if (quotable(arg)) {
                line.append('"');
                for (byte b : arg) {
                    if (b == '"' || b == '\\') {
                        line.append('\\');
                    }
                    line.append((char) b);
                }
                line.append('"');
                if (i == 0) {
                    line.append(' ');
                }
            } else {
                LiteralSpec spec = upstreamCaps.acceptsNonSyncLiteral(arg.length)
                        ? LiteralSpec.nonSync(arg.length) : LiteralSpec.sync(arg.length);
                cmd.add(new CommandLine(tag, ImapVerb.LOGIN, Unpooled.copiedBuffer(line, StandardCharsets.ISO_8859_1),
                        cmd.isDone(), spec));
                cmd.add(new LiteralChunk(Unpooled.copiedBuffer(arg), true));
                line = new StringBuilder(i == 0 ? " " : "");
            }
        }
        cmd.add(new CommandLine(tag, ImapVerb.LOGIN, Unpooled.copiedBuffer(line, StandardCharsets.ISO_8859_1),
                cmd.isDone(), null));
        return cmd;
    }

    private static OutgoingCommand authenticate(String tag, ClientLogin.Sasl sasl, Capabilities upstreamCaps) {
        OutgoingCommand cmd = new OutgoingCommand();
        String head = tag + " AUTHENTICATE " + sasl.mechanism();
        if (upstreamCaps.has("SASL-IR")) {
            cmd.add(line(tag, ImapVerb.AUTHENTICATE, head + " " + sasl.base64()));
        } else {
            cmd.add(line(tag, ImapVerb.AUTHENTICATE, head));
            cmd.add(OutgoingCommand.AWAIT_CONTINUATION);
            cmd.add(new ContinuationLine(Unpooled.copiedBuffer(sasl.initialResponse().length == 0 ? ""
                    : sasl.base64(), StandardCharsets.US_ASCII)));
        }
        return cmd;
    }

    public static CommandLine line(String tag, ImapVerb verb, String text) {
        return new CommandLine(tag, verb, Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII), true, null);
    }

    /** RFC 9051 4.3: quoted strings carry 7-bit text without CR, LF or NUL. */
    private static boolean quotable(byte[] arg) {
        for (byte b : arg) {
            if (b <= 0 || b == '\r' || b == '\n') {
                return false;
            }
        }
        return arg.length < 1000;
    }

}
