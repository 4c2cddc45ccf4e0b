package org.mailproxy.imap.session;

import io.netty.buffer.ByteBuf;
import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An APPEND whose message the proxy takes whole from the client before anything goes upstream, because it may have
 * to be encrypted first (a Drafts or Sent mailbox) and the provider must be told the exact size of what it gets.
 * The message waits in a bounded spool that is encrypted at rest once it leaves memory (SECURITY.md 25).
 */
final class CapturedAppend implements AutoCloseable {

    /** {@code mailbox} as it was sent (atom or quoted string) and the rest before the literal (flags, date). */
    record Arguments(String mailboxToken, String mailbox, String rest) {

        /** The arguments of {@code APPEND} before its literal, or null for a form the proxy passes on unchanged. */
        static Arguments parse(String arguments) {
            String a = arguments.strip();
            if (a.isEmpty()) {
                return null;
            }
            String token;
            String name;
            if (a.charAt(0) == '"') {
                StringBuilder out = new StringBuilder();
                int i = 1;
                for (; i < a.length(); i++) {
                    char c = a.charAt(i);
                    if (c == '\\' && i + 1 < a.length()) {
                        out.append(a.charAt(++i));
                    } else if (c == '"') {
                        break;
                    } else {
                        out.append(c);
                    }
                }
                if (i >= a.length()) {
                    return null;
                }
                token = a.substring(0, i + 1);
                name = out.toString();
            } else {
                int sp = a.indexOf(' ');
                token = sp < 0 ? a : a.substring(0, sp);
                if (token.startsWith("{") || token.startsWith("(")) {
                    return null;
                }
                name = token;
            }
            if (name.equalsIgnoreCase("INBOX")) {
                name = "INBOX";
            }
            return new Arguments(token, name, a.substring(token.length()).strip());
        }
    }

    final String clientTag;
    final Arguments arguments;
    private final Spool spool;
    private OutputStream out;
    private boolean failed;

    CapturedAppend(String clientTag, Arguments arguments, long maxBytes) {
        this.clientTag = clientTag;
        this.arguments = arguments;
        this.spool = new Spool(1 << 20, maxBytes, null);
        this.out = spool.output();
    }

    void write(ByteBuf octets) {
        if (failed) {
            return;
        }
        try {
            octets.readBytes(out, octets.readableBytes());
        } catch (IOException e) {
            failed = true;
        }
    }

    /** The literal is complete; false when it could not be kept. */
    boolean finish() {
        try {
            out.close();
        } catch (IOException e) {
            failed = true;
        }
        return !failed;
    }

    Spool spool() {
        return spool;
    }

    @Override
    public void close() {
        try {
            spool.close();
        } catch (IOException e) {
            // a spool file that cannot be deleted is encrypted under a key that is gone with the spool
        }
    }
}
