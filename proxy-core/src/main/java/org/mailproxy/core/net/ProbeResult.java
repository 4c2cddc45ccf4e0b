package org.mailproxy.core.net;

import java.util.List;

/**
 * What {@code mailproxy check} learned about one upstream: a verdict a person can act on, and the capabilities the
 * server announced after TLS.
 */
public record ProbeResult(Outcome outcome, String detail, List<String> capabilities) {

    public enum Outcome {
        /** Connected, TLS verified, capabilities read (and login accepted, when credentials were given). */
        OK,
        /** The host answered with a TCP reset: nothing listens on that port. */
        CONNECTION_REFUSED,
        /** No answer in time, or the name does not resolve. */
        UNREACHABLE,
        /** The certificate did not verify (unknown CA, expired, wrong host name). */
        BAD_CERTIFICATE,
        /** TLS failed for another reason (protocol version, cipher, handshake cut). */
        TLS_FAILED,
        /** STARTTLS was configured but the server does not offer it or refused it (SECURITY.md 9). */
        STARTTLS_UNAVAILABLE,
        /** The server refused the login and password. */
        AUTH_FAILED,
        /** The server said something that is not the protocol. */
        PROTOCOL_ERROR
    }

    public ProbeResult {
        capabilities = List.copyOf(capabilities);
    }

    public boolean ok() {
        return outcome == Outcome.OK;
    }
}
