package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.KeyInfo;
import org.mailproxy.core.crypto.openpgp.KeyVersion;
import org.mailproxy.core.crypto.openpgp.Keyring;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Period;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy keys}: the OpenPGP keys in {@code data-dir/keys}. Passphrases come from an owner-only file or the
 * terminal, never from the command line or the environment (SECURITY.md 23). {@code unlock} and {@code status} talk
 * to the running daemon over its {@link ControlSocket}.
 */
@Command(name = "keys", description = "Manage the OpenPGP keys in the data directory.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Import.class, KeysCommand.Export.class,
                KeysCommand.ListKeys.class, KeysCommand.Delete.class, KeysCommand.Unlock.class,
                KeysCommand.Status.class})
final class KeysCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Configuration file (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf); "
                    + "without one, the default data directory is used.")
    Path config;

    @Override
    public Integer call() {
        root.environment.err().println("Usage: mailproxy keys generate|import|export|list|delete|unlock|status "
                + "(mailproxy help keys)");
        return Main.USAGE;
    }

    Main.Environment env() {
        return root.environment;
    }

    /** The configuration the command names, or the defaults when none is named and the default file is absent. */
    MailproxyConfig loadConfig() {
        Main.Environment env = env();
        Path file = ConfigLocation.resolve(config, env.variables(), env.userHome());
        ConfigLoader loader = new ConfigLoader(env.variables());
        return config == null && !Files.exists(file) ? loader.loadString("", "defaults") : loader.load(file);
    }

    /** The keyring of the configured data directory, created owner-only when missing. */
    Keyring keyring() {
        MailproxyConfig cfg = loadConfig();
        try {
            if (!Files.exists(cfg.dataDir())) {
                DataDirectory.createOwnerOnly(cfg.dataDir());
            }
            DataDirectory.verify(cfg);
            return Keyring.open(cfg.dataDir().resolve("keys"));
        } catch (IOException e) {
            throw new ConfigError(cfg.dataDir() + ": " + e.getMessage(), e);
        }
    }

    static String describe(KeyInfo k) {
        StringBuilder sb = new StringBuilder();
        sb.append(k.fingerprint()).append("  v").append(k.version()).append(k.secret() ? "  sec" : "  pub")
                .append("  created ").append(k.created().toString(), 0, 10);
        k.expires().ifPresent(e -> sb.append("  expires ").append(e.toString(), 0, 10));
        if (k.revoked()) {
            sb.append("  REVOKED");
        } else if (!k.usable()) {
            sb.append("  UNUSABLE");
        }
        sb.append("  ").append(String.join(", ", k.userIds()));
        return sb.toString();
    }

    /** A passphrase from {@code file} (first line, owner-only) or, without one, asked on the terminal. */
    static char[] passphrase(Path file, Main.Environment env, String prompt, boolean confirm) {
        if (file != null) {
            return CheckCommand.readPasswordFile(file);
        }
        Main.PasswordPrompt terminal = env.terminal().get();
        if (terminal == null) {
            throw new ConfigError("no terminal to ask for the passphrase; use --passphrase-file FILE");
        }
        char[] first = terminal.ask(prompt);
        if (first == null || first.length == 0) {
            throw new ConfigError("an empty passphrase is not accepted");
        }
        if (confirm) {
            char[] again = terminal.ask("Repeat the passphrase: ");
            boolean same = again != null && Arrays.equals(first, again);
            if (again != null) {
                Arrays.fill(again, '\0');
            }
            if (!same) {
                Arrays.fill(first, '\0');
                throw new ConfigError("the passphrases differ");
            }
        }
        return first;
    }

    @Command(name = "generate", description = "Generate a key for ADDR (Ed25519/X25519, v4 unless --v6).")
    static final class Generate implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Option(names = "--email", required = true, paramLabel = "ADDR", description = "The address the key is for.")
        String email;

        @Option(names = "--v6", description = "An RFC 9580 version 6 key (not yet readable by GnuPG 2.2).")
        boolean v6;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "Protect the secret key with the passphrase on the first line of FILE (owner-only); "
                        + "without it the passphrase is asked on the terminal.")
        Path passphraseFile;

        @Option(names = "--expires", paramLabel = "WHEN", defaultValue = "3y",
                description = "How long the key is valid: <n>y (years), <n>m (months), <n>w (weeks), <n>d (days) "
                        + "or never. Default: ${DEFAULT-VALUE}, as GnuPG does.")
        String expires;

        @Override
        public Integer call() throws KeyException {
            Period validity = validity(expires);
            Keyring ring = keys.keyring();
            char[] pass = passphrase(passphraseFile, keys.env(), "Passphrase for the new key of " + email + ": ", true);
            try {
                KeyInfo k = ring.generate(email, pass, v6 ? KeyVersion.V6 : KeyVersion.V4, validity);
                keys.env().out().println(describe(k));
                return Main.OK;
            } finally {
                Arrays.fill(pass, '\0');
            }
        }
    }

    /** {@code 2y}, {@code 18m}, {@code 6w}, {@code 365d} or {@code never} (also {@code 0}): null for never. */
    static Period validity(String text) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("never") || t.equals("0")) {
            return null;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,4})([ymwd])").matcher(t);
        if (!m.matches()) {
            throw new ConfigError("--expires " + text + ": expected <n>y, <n>m, <n>w, <n>d or never (e.g. 2y, 18m, 365d)");
        }
        int n = Integer.parseInt(m.group(1));
        Period p = switch (m.group(2)) {
            case "y" -> Period.ofYears(n);
            case "m" -> Period.ofMonths(n);
            case "w" -> Period.ofWeeks(n);
            default -> Period.ofDays(n);
        };
        return p.isZero() ? null : p;
    }

    @Command(name = "import", description = "Import certificates and keys (armored or binary, one or many per file).")
    static final class Import implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files from gpg --export, gpg --export-secret-keys, sq ...; - reads standard input.")
        List<Path> files;

        @Override
        public Integer call() throws IOException, KeyException {
            Keyring ring = keys.keyring();
            for (Path f : files) {
                try (InputStream in = "-".equals(f.toString()) ? System.in : Files.newInputStream(f)) {
                    for (KeyInfo k : ring.importKeys(in)) {
                        keys.env().out().println("imported " + describe(k));
                    }
                }
            }
            return Main.OK;
        }
    }

    @Command(name = "export", description = "Print the certificate (or with --secret the protected secret key) of ADDR or FPR, armored.")
    static final class Export implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Parameters(index = "0", paramLabel = "ADDR|FPR")
        String which;

        @Option(names = "--secret", description = "Export the secret key (still protected by its passphrase).")
        boolean secret;

        @Override
        public Integer call() throws IOException, KeyException {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            keys.keyring().export(which, secret, true, out);
            keys.env().out().print(out.toString(StandardCharsets.US_ASCII));
            keys.env().out().flush();
            return Main.OK;
        }
    }

    @Command(name = "list", description = "List the keys: fingerprint, version, secret or public, dates, state, user IDs.")
    static final class ListKeys implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Override
        public Integer call() {
            for (KeyInfo k : keys.keyring().list()) {
                keys.env().out().println(describe(k));
            }
            return Main.OK;
        }
    }

    @Command(name = "delete", description = "Delete the key with fingerprint FPR (certificate and secret key).")
    static final class Delete implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Parameters(index = "0", paramLabel = "FPR")
        String fingerprint;

        @Override
        public Integer call() throws IOException {
            if (!keys.keyring().delete(fingerprint)) {
                keys.env().err().println("no key with fingerprint " + fingerprint);
                return Main.FAILURE;
            }
            keys.env().out().println("deleted " + fingerprint);
            return Main.OK;
        }
    }

    @Command(name = "unlock", description = "Unlock the key of account EMAIL in the running daemon (the passphrase "
            + "is asked on the terminal or read from --passphrase-file, never taken from the command line).")
    static final class Unlock implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Parameters(index = "0", arity = "0..1", paramLabel = "EMAIL",
                description = "The account; may be left out when the daemon has one account.")
        String email;

        @Option(names = "--passphrase-file", paramLabel = "FILE",
                description = "Read the passphrase from the first line of FILE (owner-only).")
        Path passphraseFile;

        @Override
        public Integer call() throws IOException {
            Main.Environment env = keys.env();
            ControlClient client = new ControlClient(keys.loadConfig().dataDir());
            try {
                List<String[]> accounts = accounts(client.status());
                String account = chooseAccount(accounts, email);
                char[] pass = passphrase(passphraseFile, env, "Passphrase for the key of " + account + ": ", false);
                List<String> answer;
                try {
                    answer = client.unlock(account, pass);
                } finally {
                    Arrays.fill(pass, '\0');
                }
                String last = answer.get(answer.size() - 1);
                if (last.startsWith("OK ")) {
                    env.out().println("unlocked " + account + " (key " + last.substring(3) + ")");
                    return Main.OK;
                }
                env.err().println(switch (last.contains(" ") ? last.substring(last.indexOf(' ') + 1) : last) {
                    case "wrong-passphrase" -> "wrong passphrase for the key of " + account + "; it stays locked";
                    case "no-such-account" -> "the running mailproxy has no account " + account;
                    default -> last.startsWith("ERR no-key ") ? last.substring("ERR no-key ".length())
                            : last.startsWith("ERR several-keys ") ? last.substring("ERR several-keys ".length())
                            : "the daemon refused: " + last;
                });
                return Main.FAILURE;
            } catch (ControlClient.NotRunning e) {
                env.err().println(e.getMessage());
                return Main.FAILURE;
            }
        }

        private static String chooseAccount(List<String[]> accounts, String email) {
            if (email != null) {
                if (accounts.stream().noneMatch(a -> a[0].equalsIgnoreCase(email))) {
                    throw new ConfigError("the running mailproxy has no account " + email + " (it has: "
                            + names(accounts) + ")");
                }
                return email;
            }
            if (accounts.size() != 1) {
                throw new ConfigError(accounts.isEmpty() ? "the running mailproxy has no accounts"
                        : "name the account to unlock: " + names(accounts));
            }
            return accounts.get(0)[0];
        }

        private static String names(List<String[]> accounts) {
            return String.join(", ", accounts.stream().map(a -> a[0]).toList());
        }
    }

    @Command(name = "status", description = "Show, for each account of the running daemon, whether its key is "
            + "unlocked, locked or missing.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        KeysCommand keys;

        @Override
        public Integer call() throws IOException {
            Main.Environment env = keys.env();
            try {
                List<String[]> accounts = accounts(new ControlClient(keys.loadConfig().dataDir()).status());
                if (accounts.isEmpty()) {
                    env.out().println("the running mailproxy has no accounts");
                }
                for (String[] a : accounts) {
                    env.out().println(a[0] + "  " + a[1] + (a.length > 2 ? "  " + a[2] : ""));
                }
                return Main.OK;
            } catch (ControlClient.NotRunning e) {
                env.err().println(e.getMessage());
                return Main.FAILURE;
            }
        }
    }

    /** The ACCOUNT lines of a STATUS answer as {email, state[, fingerprint]}. */
    static List<String[]> accounts(List<String> answer) throws IOException {
        if (!answer.get(answer.size() - 1).equals("OK")) {
            throw new IOException("the daemon refused STATUS: " + answer.get(answer.size() - 1));
        }
        List<String[]> out = new java.util.ArrayList<>();
        for (String line : answer.subList(0, answer.size() - 1)) {
            String[] f = line.split(" ");
            if (f.length < 3 || !f[0].equals("ACCOUNT")) {
                throw new IOException("unexpected answer from the daemon: " + line);
            }
            out.add(Arrays.copyOfRange(f, 1, f.length));
        }
        return out;
    }
}
