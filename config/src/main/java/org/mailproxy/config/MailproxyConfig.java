package org.mailproxy.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The whole validated configuration. Built only by {@link ConfigLoader}; every value here has passed validation,
 * so the rest of the code never re-checks it.
 *
 * @param source where it came from, for messages ("built-in defaults" when no file was read)
 */
public record MailproxyConfig(
        String source,
        Path dataDir,
        ImapSettings imap,
        SmtpSettings smtp,
        Optional<ListenAddress> metricsListen,
        Optional<Path> trustedCaFile,
        LocalTls localTls,
        Duration shutdownGracePeriod,
        List<Account> accounts) {

    public MailproxyConfig {
        accounts = List.copyOf(accounts);
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
