package org.mailproxy.app.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The host a request's {@code Host} header names (RFC 9110 7.2), accepted only when it is a syntactically valid
 * DNS name (RFC 1123 2.1), IPv4 address or bracketed IPv6 address, with an optional port. Anything else, or more
 * than one {@code Host} field (RFC 9112 3.2), is refused: the header is chosen by whoever sends the request, and
 * the autoconfiguration would otherwise hand it to a mail client as the server to log in to.
 */
final class HostHeader {

    private static final Pattern DNS_NAME = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-f:.]{2,45}");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

    private HostHeader() {
    }

    /** The host (lower case, IPv6 without brackets) from the request's Host fields, if valid. */
    static Optional<String> host(List<String> fields) {
        if (fields == null || fields.size() != 1) {
            return Optional.empty();
        }
        String value = fields.get(0).trim().toLowerCase(Locale.ROOT);
        String host;
        String port = null;
        if (value.startsWith("[")) {
            int close = value.indexOf(']');
            if (close < 0) {
                return Optional.empty();
            }
            host = value.substring(1, close);
            String rest = value.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return Optional.empty();
                }
                port = rest.substring(1);
            }
            if (!IPV6.matcher(host).matches() || !host.contains(":") || !isIpLiteral(host)) {
                return Optional.empty();
            }
        } else {
            int colon = value.indexOf(':');
            host = colon < 0 ? value : value.substring(0, colon);
            port = colon < 0 ? null : value.substring(colon + 1);
            if (host.endsWith(".")) {
                host = host.substring(0, host.length() - 1);
            }
            if (!DNS_NAME.matcher(host).matches()) {
                return Optional.empty();
            }
        }
        if (port != null && (!PORT.matcher(port).matches() || Integer.parseInt(port) > 65535)) {
            return Optional.empty();
        }
        return Optional.of(host);
    }

    /** Only called with hex digits, colons and dots, so this parses a literal and never asks DNS. */
    private static boolean isIpLiteral(String host) {
        try {
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** True for a listen host that means "every address" (0.0.0.0, ::), where only the request tells the name. */
    static boolean isWildcard(String listenHost) {
        String h = listenHost.trim().toLowerCase(Locale.ROOT);
        boolean ipv4 = h.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
        boolean ipv6 = h.contains(":") && IPV6.matcher(h).matches();
        if (!ipv4 && !ipv6) {
            return false; // a name, which is never resolved here
        }
        try {
            return InetAddress.getByName(h).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
