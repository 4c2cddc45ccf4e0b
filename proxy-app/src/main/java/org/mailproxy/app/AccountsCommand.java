package org.mailproxy.app;

import org.mailproxy.config.Account;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.auth.ProviderLogin;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Keyring;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy accounts}: what local authentication needs per account. The local password is what clients log in
 * to the proxy with when it listens beyond loopback ({@code allow-remote-clients}) or {@code local-auth = always};
 * the provider password is what the proxy then logs in to the provider with, kept in data-dir sealed to the account's
 * own key. Passwords come from owner-only files (Docker secrets, systemd credentials) or the terminal, never from the
 * command line or the environment (SECURITY.md 23). The running daemon reads them at each login: no restart needed.
 */
@Command(name = "accounts", description = "Local passwords and stored provider passwords of the configured accounts.",
        subcommands = {AccountsCommand.ListAccounts.class, AccountsCommand.ShowPassword.class,
                AccountsCommand.ResetPassword.class, AccountsCommand.SetLocalPassword.class,
                AccountsCommand.SetProviderPassword.class})
final class AccountsCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Configuration file (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf).")
    Path config;

    @Override
    public Integer call() {
        root.environment.err().println("Usage: mailproxy accounts list|show-password|reset-password|"
                + "set-local-password|set-provider-password (mailproxy help accounts)");
        return Main.USAGE;
    }

    Main.Environment env() {
        return root.environment;
    }

    MailproxyConfig loadConfig() {
        Main.Environment env = env();
        return new ConfigLoader(env.variables()).load(ConfigLocation.resolve(config, env.variables(), env.userHome()));
    }

    /** The configured data directory, created owner-only when missing and verified as the daemon does. */
    static Path dataDir(MailproxyConfig cfg) {
        try {
            if (!Files.exists(cfg.dataDir())) {
                DataDirectory.createOwnerOnly(cfg.dataDir());
            }
        } catch (IOException e) {
            throw new ConfigError(cfg.dataDir() + ": " + e.getMessage(), e);
        }
        DataDirectory.verify(cfg);
        return cfg.dataDir();
    }

    /** The account named by its address or login. */
    static Account account(MailproxyConfig cfg, String name) {
        return cfg.accountNamed(name).orElseThrow(() -> new ConfigError("no account " + name + " in " + cfg.source()
                + " (mailproxy accounts list shows them)"));
    }

    /**
     * Stores {@code password} for {@code account}'s provider, sealed to the account's own certificate. The key must
     * exist (generated or imported); it need not be unlocked. The password array is wiped.
     */
    static void storeProviderPassword(MailproxyConfig cfg, Account account, String login, char[] password) {
        Path dataDir = dataDir(cfg);
        byte[] bytes = utf8(password);
        try (AccountKeys keys = AccountKeys.open(dataDir.resolve("keys"),
                Map.of(account.email(), account.key().fingerprint()))) {
            AccountKeys.Status status = keys.status(account.email());
            String fpr = status.fingerprint().orElseThrow(() -> new ConfigError("account " + account.email()
                    + " has no key to seal the password to (" + status.detail() + "); run `mailproxy keys generate "
                    + "--email " + account.email() + "` or `mailproxy keys import FILE` first"));
            AccountSecrets.open(dataDir).storeProviderLogin(account.email(), new ProviderLogin(login, bytes),
                    Keyring.open(dataDir.resolve("keys")), fpr);
        } catch (IOException e) {
            throw new ConfigError(dataDir + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ConfigError(e.getMessage(), e);
        } finally {
            Arrays.fill(bytes, (byte) 0);
            Arrays.fill(password, '\0');
        }
    }

    private static byte[] utf8(char[] chars) {
        ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(chars));
        byte[] out = new byte[b.remaining()];
        b.get(out);
        if (b.hasArray()) {
            Arrays.fill(b.array(), (byte) 0);
        }
        return out;
    }

    @Command(name = "list", description = "Each account, whether local authentication is in force, and what is stored.")
    static final class ListAccounts implements Callable<Integer> {
        @ParentCommand
        AccountsCommand accounts;

        @Override
        public Integer call() throws IOException {
            MailproxyConfig cfg = accounts.loadConfig();
            Main.Environment env = accounts.env();
            env.out().println("local authentication: " + (cfg.localAuthInForce() ? "in force" : "off (clients log in "
                    + "with their provider password, passed through)"));
            AccountSecrets secrets = AccountSecrets.open(cfg.dataDir());
            for (Account a : cfg.accounts()) {
                boolean local = Files.exists(cfg.dataDir()) && secrets.existingLocalPassword(a.email()).isPresent();
                boolean provider = Files.exists(cfg.dataDir()) && secrets.hasProviderLogin(a.email());
                env.out().println(a.email() + "  login " + a.login() + "  local password: " + (local ? "set" : "none")
                        + "  provider password: " + (provider ? "stored" : "none"));
            }
            return Main.OK;
        }
    }

    @Command(name = "show-password", description = "Print the local password clients log in to the proxy with "
            + "(generated on first use).")
    static final class ShowPassword implements Callable<Integer> {
        @ParentCommand
        AccountsCommand accounts;

        @Parameters(paramLabel = "EMAIL", description = "The account's address or login.")
        String name;

        @Override
        public Integer call() throws IOException {
            MailproxyConfig cfg = accounts.loadConfig();
            Account a = account(cfg, name);
            accounts.env().out().println(AccountSecrets.open(dataDir(cfg)).localPassword(a.email()));
            if (!cfg.localAuthInForce()) {
                accounts.env().err().println("note: local authentication is not in force with " + cfg.source()
                        + " (listeners on loopback, local-auth = auto); clients log in with their provider password");
            }
            return Main.OK;
        }
    }

    @Command(name = "reset-password", description = "Generate a new local password (the old one stops working at once).")
    static final class ResetPassword implements Callable<Integer> {
        @ParentCommand
        AccountsCommand accounts;

        @Parameters(paramLabel = "EMAIL", description = "The account's address or login.")
        String name;

        @Override
        public Integer call() throws IOException {
            MailproxyConfig cfg = accounts.loadConfig();
            Account a = account(cfg, name);
            accounts.env().out().println(AccountSecrets.open(dataDir(cfg)).resetLocalPassword(a.email()));
            return Main.OK;
        }
    }

    @Command(name = "set-local-password", description = "Take the local password from an owner-only file (e.g. a "
            + "secret shared with an app container); it must be at least 128 bits strong.")
    static final class SetLocalPassword implements Callable<Integer> {
        @ParentCommand
        AccountsCommand accounts;

        @Parameters(paramLabel = "EMAIL", description = "The account's address or login.")
        String name;

        @Option(names = "--password-file", required = true, paramLabel = "FILE",
                description = "The password is the first line of FILE (owner-only).")
        Path passwordFile;

        @Override
        public Integer call() throws IOException {
            MailproxyConfig cfg = accounts.loadConfig();
            Account a = account(cfg, name);
            char[] p = CheckCommand.readPasswordFile(passwordFile);
            try {
                AccountSecrets.open(dataDir(cfg)).setLocalPassword(a.email(), new String(p));
            } catch (IllegalArgumentException e) {
                throw new ConfigError(passwordFile + ": " + e.getMessage(), e);
            } finally {
                Arrays.fill(p, '\0');
            }
            accounts.env().out().println("local password of " + a.email() + " set from " + passwordFile);
            return Main.OK;
        }
    }

    @Command(name = "set-provider-password", description = "Store the password mailproxy logs in to the provider "
            + "with, encrypted to the account's key (asked on the terminal, or read from --password-file).")
    static final class SetProviderPassword implements Callable<Integer> {
        @ParentCommand
        AccountsCommand accounts;

        @Parameters(paramLabel = "EMAIL", description = "The account's address or login.")
        String name;

        @Option(names = "--password-file", paramLabel = "FILE",
                description = "The password is the first line of FILE (owner-only), e.g. /run/secrets/NAME.")
        Path passwordFile;

        @Option(names = "--login", paramLabel = "NAME",
                description = "The login name at the provider (default: the account's login).")
        String login;

        @Override
        public Integer call() {
            MailproxyConfig cfg = accounts.loadConfig();
            Account a = account(cfg, name);
            char[] p;
            if (passwordFile != null) {
                p = CheckCommand.readPasswordFile(passwordFile);
            } else {
                Main.PasswordPrompt terminal = accounts.env().terminal().get();
                if (terminal == null) {
                    throw new ConfigError("no terminal to ask for the password; use --password-file FILE");
                }
                p = terminal.ask("Provider password for " + a.email() + ": ");
            }
            if (p == null || p.length == 0) {
                throw new ConfigError("an empty password is not stored");
            }
            String user = Optional.ofNullable(login).orElse(a.login());
            storeProviderPassword(cfg, a, user, p);
            accounts.env().out().println("provider password for " + a.email() + " (login " + user + ") stored, "
                    + "encrypted to the account's key");
            return Main.OK;
        }
    }
}
