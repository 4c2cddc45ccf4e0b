package org.mailproxy.app.http;

import com.sun.net.httpserver.HttpExchange;
import org.mailproxy.config.Account;
import org.mailproxy.config.LocalTls;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Thunderbird's autoconfiguration (the "config-v1.1" format of Mozilla's ISPDB) for the proxy's OWN endpoints, so
 * a mail client set up for an account's address is pointed at the local IMAP and SMTP listeners rather than at the
 * provider. Served where Thunderbird looks:
 * <ul>
 *   <li>{@code /mail/config-v1.1.xml?emailaddress=...} and {@code /.well-known/autoconfig/mail/config-v1.1.xml?...}
 *       (what Thunderbird fetches from {@code autoconfig.<domain>} and {@code <domain>});</li>
 *   <li>{@code /v1.1/<domain>}: the ISPDB path, fetched when the hidden preference
 *       {@code mailnews.auto_config_url} is {@code http://127.0.0.1:9464/v1.1/}.</li>
 * </ul>
 * An address or domain that is not a configured account's gets 404, so the client goes on to its other sources.
 *
 * <p>The host named is the listen address of the IMAP or SMTP side. When that is a wildcard (0.0.0.0, ::), only the
 * request knows the name the client used: its {@code Host} header is taken when {@link HostHeader} accepts it, and
 * the request is refused otherwise. Every value is XML-escaped all the same.
 */
public final class AutoconfigEndpoint implements Endpoint {

    static final String CONTENT_TYPE = "text/xml; charset=utf-8";
    private static final String ISPDB_PREFIX = "/v1.1/";

    /** One of the proxy's listeners as the configuration names it, with the port it is bound to. */
    public record Listener(String host, int port) {
    }

    private final List<Account> accounts;
    private final Listener imap;
    private final Listener smtp;
    private final String socketType;

    public AutoconfigEndpoint(List<Account> accounts, Listener imap, Listener smtp, LocalTls.Mode localTls) {
        this.accounts = List.copyOf(accounts);
        this.imap = imap;
        this.smtp = smtp;
        // The names of the format: "SSL" is TLS from the first byte, "plain" is no TLS at all.
        this.socketType = switch (localTls) {
            case STARTTLS -> "STARTTLS";
            case IMPLICIT -> "SSL";
            case OFF -> "plain";
        };
    }

    @Override
    public boolean serves(String path) {
        return "/mail/config-v1.1.xml".equals(path) || "/.well-known/autoconfig/mail/config-v1.1.xml".equals(path)
                || path.startsWith(ISPDB_PREFIX);
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        if (!Exchanges.readOnly(exchange)) {
            return;
        }
        Optional<String> address;
        try {
            address = queryParameter(exchange.getRequestURI().getRawQuery(), "emailaddress");
        } catch (IllegalArgumentException e) {
            Exchanges.respond(exchange, 400, Exchanges.TEXT, "malformed query\n");
            return;
        }
        String path = exchange.getRequestURI().getPath();
        Optional<String> domain = path.startsWith(ISPDB_PREFIX)
                ? Optional.of(path.substring(ISPDB_PREFIX.length()).toLowerCase(Locale.ROOT))
                : address.map(AutoconfigEndpoint::domainOf);
        if (domain.isEmpty()) {
            Exchanges.respond(exchange, 400, Exchanges.TEXT, "emailaddress= is missing\n");
            return;
        }
        Optional<Account> account = address.flatMap(this::account);
        List<Account> inDomain = accounts.stream().filter(a -> domainOf(a.email()).equals(domain.get())).toList();
        if (inDomain.isEmpty() || address.isPresent() && (account.isEmpty()
                || !domainOf(account.get().email()).equals(domain.get()))) {
            Exchanges.respond(exchange, 404, Exchanges.TEXT, "no account for that address or domain\n");
            return;
        }
        List<String> hostFields = exchange.getRequestHeaders().get("Host");
        Optional<String> imapHost = hostFor(imap, hostFields);
        Optional<String> smtpHost = hostFor(smtp, hostFields);
        if (imapHost.isEmpty() || smtpHost.isEmpty()) {
            Exchanges.respond(exchange, 400, Exchanges.TEXT, "the Host header does not name a usable host\n");
            return;
        }
        // With one account the client's login is known; otherwise the client fills in the address it was given. A
        // client on another machine is not told logins either: the address it asked with logs in as well.
        String username = !Exchanges.fromLoopback(exchange) ? "%EMAILADDRESS%"
                : account.or(() -> inDomain.size() == 1 ? Optional.of(inDomain.get(0)) : Optional.empty())
                .map(Account::login).orElse("%EMAILADDRESS%");
        Exchanges.respond(exchange, 200, CONTENT_TYPE, xml(domain.get(), imapHost.get(), smtpHost.get(), username));
    }

    private Optional<Account> account(String address) {
        return accounts.stream().filter(a -> a.email().equalsIgnoreCase(address)).findFirst();
    }

    private static Optional<String> hostFor(Listener listener, List<String> hostFields) {
        return HostHeader.isWildcard(listener.host()) ? HostHeader.host(hostFields) : Optional.of(listener.host());
    }

    private static String domainOf(String address) {
        return address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
    }

    /** The first value of {@code name} in an {@code application/x-www-form-urlencoded} query. */
    static Optional<String> queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return Optional.empty();
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return Optional.of(eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8))
                        .filter(v -> !v.isBlank());
            }
        }
        return Optional.empty();
    }

    private String xml(String domain, String imapHost, String smtpHost, String username) {
        Set<String> domains = new LinkedHashSet<>();
        domains.add(domain);
        accounts.forEach(a -> domains.add(domainOf(a.email())));
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<clientConfig version=\"1.1\">\n")
                .append("  <emailProvider id=\"").append(escape(domain)).append("\">\n");
        for (String d : domains) {
            b.append("    <domain>").append(escape(d)).append("</domain>\n");
        }
        b.append("    <displayName>").append(escape(domain)).append(" through mailproxy</displayName>\n")
                .append("    <displayShortName>mailproxy</displayShortName>\n");
        server(b, "incomingServer", "imap", imapHost, imap.port(), username);
        server(b, "outgoingServer", "smtp", smtpHost, smtp.port(), username);
        return b.append("  </emailProvider>\n</clientConfig>\n").toString();
    }

    /**
     * One server. {@code password-cleartext} is what the proxy takes (LOGIN, AUTH PLAIN/LOGIN); the password only
     * travels on this machine or inside the local TLS.
     */
    private void server(StringBuilder b, String element, String type, String host, int port, String username) {
        b.append("    <").append(element).append(" type=\"").append(type).append("\">\n")
                .append("      <hostname>").append(escape(host)).append("</hostname>\n")
                .append("      <port>").append(port).append("</port>\n")
                .append("      <socketType>").append(socketType).append("</socketType>\n")
                .append("      <username>").append(escape(username)).append("</username>\n")
                .append("      <authentication>password-cleartext</authentication>\n")
                .append("    </").append(element).append(">\n");
    }

    /** XML 1.0 section 2.4 and 3.3.3: markup characters and both quotes, so the text is safe in content and attributes. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        b.append('?'); // not representable in XML 1.0 at all
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
