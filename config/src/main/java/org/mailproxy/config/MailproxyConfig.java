package org.mailproxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole validated configuration. Built only by {@link ConfigLoader}; every value here has passed validation,
 * so the rest of the code never re-checks it.
 *
 * @param source where it came from, for messages ("built-in defaults" when no file was read)
 * @param remoteAccess whether listeners may be beyond loopback and clients log in with local passwords
 * @param origins for each setting path ({@code mailproxy.imap.listen}), {@code file:line: } where it was set
 * @param httpListen the one HTTP listener (metrics, health, client autoconfiguration); empty when "off"
 * @param httpHealthInterval how often {@code /health} probes each upstream, at most
 */
public record MailproxyConfig(
        String source,
        Path dataDir,
        ImapSettings imap,
        SmtpSettings smtp,
        Optional<ListenAddress> httpListen,
        Duration httpHealthInterval,
        Optional<Path> trustedCaFile,
        LocalTls localTls,
        Duration shutdownGracePeriod,
        RemoteAccess remoteAccess,
        List<Account> accounts,
        Map<String, String> origins) {

    public MailproxyConfig {
        accounts = List.copyOf(accounts);
        origins = Map.copyOf(origins);
    }

    /**
     * Names a setting for an error message, with where it was set: {@code mailproxy.conf:3: mailproxy.imap.listen}.
     * Used for failures found only at run time, such as a listen port that is taken.
     */
    public String describe(String path) {
        String origin = origins.get(path);
        return (origin == null ? "" : origin) + path;
    }

    /**
     * True when clients must log in to the proxy with the account's local password (and the proxy logs in to the
     * provider with the credentials stored in data-dir): always with {@code local-auth = always}, and whenever the
     * IMAP or SMTP listener is beyond loopback.
     */
    public boolean localAuthInForce() {
        return remoteAccess.localAuth() == RemoteAccess.LocalAuth.ALWAYS
                || !imap.listen().isLoopback() || !smtp.listen().isLoopback();
    }

    /**
     * The account a login names when clients log in with local passwords: its login or email must match, also when
     * only one account is configured (the provider no longer checks the name then).
     */
    public Optional<Account> accountNamed(String login) {
        return accounts.stream().filter(a -> a.matchesLogin(login)).findFirst();
    }

    /**
     * The account a client's login name selects: the one whose login or email matches, or the only account when
     * exactly one is configured (it takes every login, and the upstream decides).
     */
    public Optional<Account> accountForLogin(String login) {
        if (accounts.size() == 1) {
            return Optional.of(accounts.get(0));
        }
        return accounts.stream().filter(a -> a.matchesLogin(login)).findFirst();
    }
}
