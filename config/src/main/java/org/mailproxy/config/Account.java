package org.mailproxy.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One mail account the proxy fronts. A client's login name selects it (see {@link MailproxyConfig#accountForLogin}).
 *
 * @param key    which secret key is the account's and where its passphrase comes from
 * @param policy what the SMTP side does with the account's outgoing mail (encryption, signing, Autocrypt)
 */
public record Account(String email, String login, UpstreamEndpoint imapUpstream, UpstreamEndpoint smtpUpstream,
                      KeySettings key, SendPolicy policy) {
    public Account {
        Objects.requireNonNull(email, "email");
        Objects.requireNonNull(login, "login");
        Objects.requireNonNull(imapUpstream, "imapUpstream");
        Objects.requireNonNull(smtpUpstream, "smtpUpstream");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(policy, "policy");
    }

    /** An account with the default sending policy ({@link SendPolicy#DEFAULT}). */
    public Account(String email, String login, UpstreamEndpoint imapUpstream, UpstreamEndpoint smtpUpstream,
                   KeySettings key) {
        this(email, login, imapUpstream, smtpUpstream, key, SendPolicy.DEFAULT);
    }

    /** An account without key settings ({@link KeySettings#NONE}). */
    public Account(String email, String login, UpstreamEndpoint imapUpstream, UpstreamEndpoint smtpUpstream) {
        this(email, login, imapUpstream, smtpUpstream, KeySettings.NONE, SendPolicy.DEFAULT);
    }

    boolean matchesLogin(String candidate) {
        return login.equalsIgnoreCase(candidate) || email.toLowerCase(Locale.ROOT).equals(candidate.toLowerCase(Locale.ROOT));
    }
}
