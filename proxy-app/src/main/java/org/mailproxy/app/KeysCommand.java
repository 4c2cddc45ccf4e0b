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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mailproxy keys}: the OpenPGP keys in {@code data-dir/keys}. Passphrases come from an owner-only file or the
 * terminal, never from the command line or the environment (SECURITY.md 23).
 */
@Command(name = "keys", description = "Manage the OpenPGP keys in the data directory.",
        subcommands = {KeysCommand.Generate.class, KeysCommand.Import.class, KeysCommand.Export.class,
                KeysCommand.ListKeys.class, KeysCommand.Delete.class})
final class KeysCommand implements Callable<Integer> {

    @ParentCommand
    MailproxyCommand root;

    @Option(names = "--config", paramLabel = "FILE", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Configuration file (default: $MAILPROXY_CONFIG, else ~/.config/mailproxy/mailproxy.conf); "
                    + "without one, the default data directory is used.")
    Path config;

    @Override
    public Integer call() {
        root.environment.err().println("Usage: mailproxy keys generate|import|export|list|delete (mailproxy help keys)");
        return Main.USAGE;
    }

    Main.Environment env() {
        return root.environment;
    }

    /** The keyring of the configured data directory, created owner-only when missing. */
    Keyring keyring() {
        Main.Environment env = env();
        Path file = ConfigLocation.resolve(config, env.variables(), env.userHome());
        ConfigLoader loader = new ConfigLoader(env.variables());
        MailproxyConfig cfg = config == null && !Files.exists(file) ? loader.loadString("", "defaults") : loader.load(file);
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

        @Override
        public Integer call() throws KeyException {
            Keyring ring = keys.keyring();
            char[] pass = passphrase(passphraseFile, keys.env(), "Passphrase for the new key of " + email + ": ", true);
            try {
                KeyInfo k = ring.generate(email, pass, v6 ? KeyVersion.V6 : KeyVersion.V4);
                keys.env().out().println(describe(k));
                return Main.OK;
            } finally {
                Arrays.fill(pass, '\0');
            }
        }
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
}
