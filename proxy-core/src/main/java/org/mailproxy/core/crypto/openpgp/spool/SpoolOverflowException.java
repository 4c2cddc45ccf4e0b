package org.mailproxy.core.crypto.openpgp.spool;

import java.io.IOException;

/** More bytes were written to a {@link Spool} than its hard cap allows. */
public final class SpoolOverflowException extends IOException {
    public SpoolOverflowException(long maxBytes) {
        super("spool limit of " + maxBytes + " bytes exceeded");
    }
}
