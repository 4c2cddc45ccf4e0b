package org.mailproxy.core.auth;

import org.mailproxy.config.Account;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Local authentication as the IMAP and SMTP sessions use it: when it is {@link #inForce() in force}
 * ({@link MailproxyConfig#localAuthInForce()}), a client's login names an account and carries that account's local
 * password, checked here in constant time; only then does the session connect to the provider, and it logs in there
 * with the {@link #providerLogin stored provider login} instead of anything the client sent. Thread-safe; the files
 * are read per login, so {@code mailproxy accounts} changes take effect without a restart.
 */
public final class LocalAuth {

    private static final LocalAuth OFF = new LocalAuth(null, null, null, null);

    private final MailproxyConfig config;
    private final AccountSecrets secrets;
    private final AccountKeys keys;
    private final Path keysDir;

    private LocalAuth(MailproxyConfig config, AccountSecrets secrets, AccountKeys keys, Path keysDir) {
        this.config = config;
        this.secrets = secrets;
        this.keys = keys;
        this.keysDir = keysDir;
    }

    /** Clients log in with their provider credentials, passed through (loopback listeners, the default). */
    public static LocalAuth off() {
        return OFF;
    }

    /** For {@code config}: in force or not as {@link MailproxyConfig#localAuthInForce()} says. */
    public static LocalAuth of(MailproxyConfig config, Path dataDir, AccountKeys keys) {
        if (!config.localAuthInForce()) {
            return OFF;
        }
        return new LocalAuth(config, AccountSecrets.open(dataDir), keys, dataDir.resolve("keys"));
    }

    public boolean inForce() {
        return config != null;
    }

    /**
     * The account {@code login} names together with whether {@code password} is its local password; empty when the
     * name is no account's or the password is wrong (the client cannot tell which). The password is not kept.
     */
    public Optional<Account> authenticate(String login, byte[] password) throws IOException {
        if (!inForce()) {
            throw new IllegalStateException("local authentication is not in force");
        }
        Optional<Account> account = config.accountNamed(login);
        // The comparison runs for unknown names too, so the time taken does not tell names apart.
        boolean match = secrets.checkLocalPassword(account.map(Account::email).orElse(login), password);
        return match ? account : Optional.empty();
    }

    /** The login the proxy sends to {@code account}'s provider; the caller erases it once sent. */
    public ProviderLogin providerLogin(Account account) throws LocalAuthException {
        Optional<UnlockedKey> key = keys.key(account.email());
        if (key.isEmpty()) {
            throw new LocalAuthException(LocalAuthException.Reason.KEY_LOCKED, "the key of " + account.email()
                    + " is locked, so mailproxy cannot read the provider password; run `mailproxy keys unlock "
                    + account.email() + "`");
        }
        try {
            Optional<ProviderLogin> login = secrets.providerLogin(account.email(), Keyring.open(keysDir), key.get());
            return login.orElseThrow(() -> new LocalAuthException(LocalAuthException.Reason.NO_PROVIDER_LOGIN,
                    "no provider password is stored for " + account.email()
                            + "; run `mailproxy accounts set-provider-password " + account.email() + "`"));
        } catch (IOException e) {
            throw new LocalAuthException(LocalAuthException.Reason.UNREADABLE,
                    "cannot read the provider password of " + account.email() + ": " + e.getMessage());
        }
    }
}
