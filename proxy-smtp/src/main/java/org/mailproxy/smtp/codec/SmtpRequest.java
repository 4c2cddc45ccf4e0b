package org.mailproxy.smtp.codec;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One command line from the client, without its CRLF. The line is kept as ISO-8859-1 text so that every octet
 * survives the round trip to the upstream unchanged (SMTPUTF8 addresses, RFC 6531, are relayed byte for byte).
 * {@link #toString()} shows only the verb: the line may be a SASL response carrying a password (SECURITY.md 24).
 */
public final class SmtpRequest {

    private final SmtpCommand command;
    private final String parameters;
    private final String line;

    public SmtpRequest(String line) {
        this.line = Objects.requireNonNull(line, "line");
        int space = line.indexOf(' ');
        this.command = SmtpCommand.valueOf(space < 0 ? line : line.substring(0, space));
        this.parameters = space < 0 ? "" : line.substring(space + 1);
    }

    public SmtpCommand command() {
        return command;
    }

    /** Everything after the verb and the first space. */
    public String parameters() {
        return parameters;
    }

    /** The whole line as sent, without CRLF. */
    public String line() {
        return line;
    }

    /** The line's octets followed by CRLF, as they go upstream. */
    public byte[] toWire() {
        return (line + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        return "SmtpRequest[" + command + "]";
    }
}
