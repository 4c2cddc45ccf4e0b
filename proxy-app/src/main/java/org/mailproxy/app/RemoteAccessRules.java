package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.LocalTls;
import org.mailproxy.config.MailproxyConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the daemon refuses about where it listens (SECURITY.md 22): a listener beyond loopback without
 * {@code allow-remote-clients = true}, and remote clients without TLS, which would send their local passwords in the
 * clear. {@code mailproxy run} and {@code mailproxy check} apply the same rules.
 */
final class RemoteAccessRules {

    private RemoteAccessRules() {
    }

    /** Throws the first rule the configuration breaks, naming the setting and the fix. */
    static void verify(MailproxyConfig config) {
        List<String> problems = problems(config);
        if (!problems.isEmpty()) {
            throw new ConfigError(problems.get(0));
        }
    }

    static List<String> problems(MailproxyConfig config) {
        List<String> out = new ArrayList<>();
        listener(config, "mailproxy.imap.listen", Optional.of(config.imap().listen()), out);
        listener(config, "mailproxy.smtp.listen", Optional.of(config.smtp().listen()), out);
        listener(config, "mailproxy.http.listen", config.httpListen(), out);
        boolean remoteMail = !config.imap().listen().isLoopback() || !config.smtp().listen().isLoopback();
        if (remoteMail && config.remoteAccess().allowRemoteClients() && config.localTls().mode() == LocalTls.Mode.OFF) {
            out.add(config.describe("mailproxy.local-tls.mode") + ": off, while clients on other machines may "
                    + "connect: their local passwords would cross the network in the clear; use starttls or implicit");
        }
        return out;
    }

    private static void listener(MailproxyConfig config, String key, Optional<ListenAddress> listen, List<String> out) {
        if (listen.isPresent() && !listen.get().isLoopback() && !config.remoteAccess().allowRemoteClients()) {
            out.add(config.describe(key) + ": " + listen.get() + " is beyond loopback, so other machines could use "
                    + "the proxy; set mailproxy.allow-remote-clients = true to allow it (clients then log in with the "
                    + "account's local password: mailproxy accounts show-password EMAIL)");
        }
    }
}
