package org.mailproxy.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/** A local address to listen on, written {@code host:port} or {@code [v6]:port}. */
public record ListenAddress(String host, int port) {
    public ListenAddress {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range");
        }
    }

    public static ListenAddress parse(String text) {
        String s = text.trim();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("expected host:port, got \"" + text + "\"");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("write IPv6 addresses in brackets, e.g. [::1]:1143");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port \"" + s.substring(colon + 1) + "\" is not a number");
        }
        return new ListenAddress(host, port);
    }

    public InetSocketAddress toSocketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** True when only this machine can reach the address (SECURITY.md 22). */
    public boolean isLoopback() {
        return "localhost".equalsIgnoreCase(host) || toSocketAddress().getAddress() != null
                && toSocketAddress().getAddress().isLoopbackAddress();
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
