package org.mailproxy.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Objects;

/**
 * Where an account's provider listens and how TLS starts there. Upstream TLS is never optional (RFC 8314,
 * SECURITY.md 9): either implicit ({@code imaps}, {@code smtps}) or a STARTTLS that must succeed
 * ({@code imap+starttls}, {@code smtp+starttls}).
 */
public record UpstreamEndpoint(Protocol protocol, TlsMode tls, String host, int port) {

    public enum Protocol { IMAP, SMTP }

    public enum TlsMode { IMPLICIT, STARTTLS }

    public UpstreamEndpoint {
        Objects.requireNonNull(protocol);
        Objects.requireNonNull(tls);
        Objects.requireNonNull(host);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range");
        }
    }

    /** Parses {@code imaps://host[:993]}, {@code imap+starttls://host[:143]}, {@code smtps://host[:465]}, {@code smtp+starttls://host[:587]}. */
    public static UpstreamEndpoint parse(String text, Protocol expected) {
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: \"" + text + "\"");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Protocol protocol;
        TlsMode tls;
        int defaultPort;
        switch (scheme) {
            case "imaps" -> { protocol = Protocol.IMAP; tls = TlsMode.IMPLICIT; defaultPort = 993; }
            case "imap+starttls" -> { protocol = Protocol.IMAP; tls = TlsMode.STARTTLS; defaultPort = 143; }
            case "smtps" -> { protocol = Protocol.SMTP; tls = TlsMode.IMPLICIT; defaultPort = 465; }
            case "smtp+starttls" -> { protocol = Protocol.SMTP; tls = TlsMode.STARTTLS; defaultPort = 587; }
            case "imap", "smtp" -> throw new IllegalArgumentException("\"" + scheme + "://\" would send mail and "
                    + "passwords in the clear; use " + scheme + "s:// or " + scheme + "+starttls://");
            default -> throw new IllegalArgumentException("unknown scheme \"" + scheme + "\" in \"" + text
                    + "\"; expected " + (expected == Protocol.IMAP ? "imaps:// or imap+starttls://" : "smtps:// or smtp+starttls://"));
        }
        if (protocol != expected) {
            throw new IllegalArgumentException("\"" + text + "\" is " + protocol + ", expected " + expected);
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException("no host in \"" + text + "\"");
        }
        if ((uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/"))
                || uri.getQuery() != null || uri.getUserInfo() != null) {
            throw new IllegalArgumentException("\"" + text + "\" has parts mailproxy does not use (path, query or user)");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new UpstreamEndpoint(protocol, tls, host, uri.getPort() == -1 ? defaultPort : uri.getPort());
    }

    @Override
    public String toString() {
        String scheme = switch (protocol) {
            case IMAP -> tls == TlsMode.IMPLICIT ? "imaps" : "imap+starttls";
            case SMTP -> tls == TlsMode.IMPLICIT ? "smtps" : "smtp+starttls";
        };
        return scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
