package org.mailproxy.app.setup;

import java.net.IDN;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Checks on the names discovery works with. An address's domain goes into URLs and DNS queries, and a discovered
 * host name goes into the configuration file, so both must be plain DNS names (RFC 1123 section 2.1 labels, at most
 * 253 octets; internationalised names in their ASCII form, RFC 5891) and nothing else: no slash, no {@code @}, no
 * port, no quote.
 */
public final class MailDomains {

    private static final Pattern HOSTNAME = Pattern.compile(
            "(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*");

    private MailDomains() {
    }

    /** The domain of {@code email} in lower-case ASCII, or empty when the address or its domain is not usable. */
    public static Optional<String> domainOf(String email) {
        if (email == null) {
            return Optional.empty();
        }
        int at = email.lastIndexOf('@');
        if (at <= 0 || at == email.length() - 1 || email.indexOf('@') != at) {
            return Optional.empty();
        }
        return hostname(email.substring(at + 1));
    }

    /** {@code name} as a lower-case ASCII host name (a trailing dot removed), or empty when it is not one. */
    public static Optional<String> hostname(String name) {
        if (name == null || name.isEmpty()) {
            return Optional.empty();
        }
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        try {
            n = IDN.toASCII(n, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return HOSTNAME.matcher(n).matches() ? Optional.of(n) : Optional.empty();
    }

    /** The part of {@code email} before the last {@code @}. */
    static String localPart(String email) {
        return email.substring(0, email.lastIndexOf('@'));
    }

    /** True when {@code host} is {@code domain} or a name under it. */
    public static boolean within(String host, String domain) {
        String h = host.toLowerCase(Locale.ROOT);
        String d = domain.toLowerCase(Locale.ROOT);
        return h.equals(d) || h.endsWith("." + d);
    }
}
