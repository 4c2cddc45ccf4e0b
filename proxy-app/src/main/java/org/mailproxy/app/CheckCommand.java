package org.mailproxy.app;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.mailproxy.config.Account;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.auth.AccountSecrets;
import org.mailproxy.core.net.EventLoops;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.UpstreamProbe.Credentials;
import org.mailproxy.core.tls.LocalTls;
import org.mailproxy.core.tls.UpstreamTls;
import org.mailproxy.imap.ImapUpstreamProbe;
import org.mailproxy.smtp.SmtpUpstreamProbe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy check}: validates the configuration, then connects to every account's upstream the way a session
 * would and prints one verdict per upstream. Exits 1 when any upstream fails.
 *
 * <p>A password makes the check also try the login. It comes from {@code --password-file} (first line; the file
 * must be owner-only) or from the terminal with {@code --login}; never from the command line or the environment,
 * where other users and process listings can see it (SECURITY.md 23). It is kept only for the probe and then wiped.
 */
@Command(name = "check", description = "Validate the configuration and test every account's upstream servers "
        + "(or only the ACCOUNTs named).")
final class CheckCommand implements Callable<Integer> {

    /** How long past the connect timeout a probe may take for TLS, greeting, capabilities and login. */
    static final Duration PROBE_EXTRA_WAIT = Duration.ofSeconds(30);

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Configuration file (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf).")
    Path config;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Also log in, with the password on the first line of FILE (owner-only). "
                    + "Used for every checked account; pick one with --account.")
    Path passwordFile;

    @Option(names = "--login", description = "Also log in, asking for each account's password on the terminal.")
    boolean login;

    @Option(names = "--account", paramLabel = "EMAIL", description = "Check only this account (repeatable).")
    List<String> only = new ArrayList<>();

    @Parameters(arity = "0..*", paramLabel = "ACCOUNT", description = "Check only these accounts (email or login).")
    List<String> accountArguments = new ArrayList<>();

    @Override
    public Integer call() {
        Main.Environment env = root.environment;
        if (login && passwordFile != null) {
            throw new ConfigError("--login and --password-file: choose one");
        }
        Path file = ConfigLocation.resolve(config, env.variables(), env.userHome());
        MailproxyConfig cfg = new ConfigLoader(env.variables()).load(file);
        env.out().println("configuration " + file + ": OK, " + cfg.accounts().size() + " account(s)");

        boolean failed = false;
        if (Files.exists(cfg.dataDir())) {
            try {
                DataDirectory.verify(cfg);
                env.out().println("data-dir " + cfg.dataDir() + ": OK");
            } catch (ConfigError e) {
                env.out().println("data-dir FAILED  " + e.getMessage());
                failed = true;
            }
        }

        for (String problem : RemoteAccessRules.problems(cfg)) {
            env.out().println("listeners FAILED  " + problem);
            failed = true;
        }
        List<Account> accounts = select(cfg);
        if (cfg.localAuthInForce()) {
            failed |= !localAuthReady(cfg, accounts, env);
        }
        if (accounts.isEmpty()) {
            env.err().println(only.isEmpty() ? file + ": no accounts configured (mailproxy.accounts is empty)"
                    : "no account matches " + String.join(", ", only));
            return only.isEmpty() ? Main.FAILURE : Main.USAGE;
        }
        Map<Account, char[]> passwords = passwords(accounts, env);
        UpstreamTls upstreamTls;
        try {
            upstreamTls = UpstreamTls.create(cfg.trustedCaFile());
        } catch (IllegalStateException e) {
            throw new ConfigError(cfg.describe("mailproxy.tls.trusted-ca-file") + ": " + e.getMessage(), e);
        }
        EventLoops loops = new EventLoops(2);
        try {
            ProxyContext context = new ProxyContext(cfg, loops, upstreamTls, LocalTls.off(), new SimpleMeterRegistry());
            UpstreamCheck check = new UpstreamCheck(new ImapUpstreamProbe(context), new SmtpUpstreamProbe(context),
                    PROBE_EXTRA_WAIT);
            List<UpstreamCheck.Verdict> verdicts = check.run(accounts, cfg.imap().upstreamConnectTimeout(),
                    cfg.smtp().upstreamConnectTimeout(),
                    a -> Optional.ofNullable(passwords.get(a)).map(p -> new Credentials(a.login(), p)));
            for (UpstreamCheck.Verdict v : verdicts) {
                env.out().println(v.line());
                failed |= !v.ok();
            }
        } finally {
            passwords.values().forEach(p -> Arrays.fill(p, '\0'));
            loops.shutdown(Duration.ofSeconds(2));
        }
        env.out().println(failed ? "check FAILED" : "check OK");
        return failed ? Main.FAILURE : Main.OK;
    }

    private List<Account> select(MailproxyConfig cfg) {
        only.addAll(accountArguments);
        if (only.isEmpty()) {
            return cfg.accounts();
        }
        List<Account> selected = new ArrayList<>();
        for (Account a : cfg.accounts()) {
            if (only.stream().anyMatch(o -> o.equalsIgnoreCase(a.email()) || o.equalsIgnoreCase(a.login()))) {
                selected.add(a);
            }
        }
        return selected;
    }

    private Map<Account, char[]> passwords(List<Account> accounts, Main.Environment env) {
        Map<Account, char[]> passwords = new HashMap<>();
        if (passwordFile != null) {
            char[] password = readPasswordFile(passwordFile);
            for (Account a : accounts) {
                passwords.put(a, password.clone());
            }
            Arrays.fill(password, '\0');
        } else if (login) {
            Main.PasswordPrompt terminal = env.terminal().get();
            if (terminal == null) {
                throw new ConfigError("--login needs a terminal to ask for the password; use --password-file FILE");
            }
            for (Account a : accounts) {
                char[] p = terminal.ask("Password for " + a.email() + " (login " + a.login() + "): ");
                if (p != null) {
                    passwords.put(a, p);
                }
            }
        }
        return passwords;
    }

    /**
     * With local authentication in force, each account needs a provider password stored (its clients cannot log in
     * otherwise); a missing local password is only noted, since the daemon generates it at start.
     */
    private static boolean localAuthReady(MailproxyConfig cfg, List<Account> accounts, Main.Environment env) {
        AccountSecrets secrets = AccountSecrets.open(cfg.dataDir());
        boolean ok = true;
        for (Account a : accounts) {
            boolean provider = Files.exists(cfg.dataDir()) && secrets.hasProviderLogin(a.email());
            boolean local;
            try {
                local = Files.exists(cfg.dataDir()) && secrets.existingLocalPassword(a.email()).isPresent();
            } catch (IOException e) {
                local = false;
            }
            if (provider) {
                env.out().println("local auth " + a.email() + ": OK, provider password stored, local password "
                        + (local ? "set" : "generated at start") + " (mailproxy accounts show-password " + a.email() + ")");
            } else {
                env.out().println("local auth " + a.email() + ": FAILED  no provider password stored; run "
                        + "mailproxy accounts set-provider-password " + a.email());
                ok = false;
            }
        }
        return ok;
    }

    /**
     * The first line of {@code file}, which must not be readable by group or others. A symbolic link (how Kubernetes
     * mounts secrets) is judged by the file it points to: a link's own mode is always rwxrwxrwx and means nothing.
     */
    static char[] readPasswordFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigError(file + ": no such password file");
        }
        try {
            Path real = file.toRealPath();
            if (Files.getFileStore(real).supportsFileAttributeView("posix")) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(real, LinkOption.NOFOLLOW_LINKS);
                if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new ConfigError(file + ": the password file is readable by other users; fix it with: chmod 600 "
                            + DataDirectory.shellQuote(real));
                }
            }
        } catch (IOException e) {
            throw new ConfigError(file + ": " + e.getMessage(), e);
        }
        byte[] bytes = null;
        CharBuffer chars = null;
        try {
            bytes = Files.readAllBytes(file);
            chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            int end = 0;
            while (end < chars.length() && chars.charAt(end) != '\n' && chars.charAt(end) != '\r') {
                end++;
            }
            if (end == 0) {
                throw new ConfigError(file + ": the first line is empty; it should hold the password");
            }
            char[] password = new char[end];
            chars.get(password, 0, end);
            return password;
        } catch (CharacterCodingException e) {
            throw new ConfigError(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new ConfigError(file + ": " + e.getMessage().toLowerCase(Locale.ROOT), e);
        } finally {
            if (bytes != null) {
                Arrays.fill(bytes, (byte) 0);
            }
            if (chars != null && chars.hasArray()) {
                Arrays.fill(chars.array(), '\0');
            }
        }
    }
}
