package org.mailproxy.config;

import java.util.Locale;
import java.util.Objects;

/** One mail account the proxy fronts. A client's login name selects it (see {@link MailproxyConfig#accountForLogin}). */
public record Account(String email, String login, UpstreamEndpoint imapUpstream, UpstreamEndpoint smtpUpstream) {
    public Account {
        Objects.requireNonNull(email, "email");
        Objects.requireNonNull(login, "login");
        Objects.requireNonNull(imapUpstream, "imapUpstream");
        Objects.requireNonNull(smtpUpstream, "smtpUpstream");
    }

    boolean matchesLogin(String candidate) {
        return login.equalsIgnoreCase(candidate) || email.toLowerCase(Locale.ROOT).equals(candidate.toLowerCase(Locale.ROOT));
    }
}
