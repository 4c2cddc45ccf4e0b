package org.mailproxy.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Reads and validates the HOCON configuration. Layers, highest first: environment overrides
 * ({@code CONFIG_FORCE_mailproxy_imap_listen}, Typesafe's convention), system properties, the user's file,
 * {@code reference.conf}. Anything wrong (unknown key, bad URL, missing file) becomes one {@link ConfigError}
 * naming the file, line and key.
 */
public final class ConfigLoader {

    private static final String ROOT = "mailproxy";

    /** Keys an entry of {@code mailproxy.accounts} may have (per-account settings grow with later features). */
    private static final Set<String> ACCOUNT_KEYS = Set.of("email", "login", "imap.upstream", "smtp.upstream",
            "key.fingerprint", "key.passphrase-file", "key.passphrase-credential",
            "policy.encrypt", "policy.sign", "policy.rules", "policy.obscured-subject", "policy.autocrypt");

    private final Map<String, String> environment;
    private final ClassLoader classLoader;

    public ConfigLoader() {
        this(System.getenv());
    }

    /** For tests: a given environment instead of the process's. */
    public ConfigLoader(Map<String, String> environment) {
        this(environment, ConfigLoader.class.getClassLoader());
    }

    /** For tests: the class loader that holds reference.conf. */
    ConfigLoader(Map<String, String> environment, ClassLoader classLoader) {
        this.environment = Map.copyOf(environment);
        this.classLoader = classLoader;
    }

    /** Loads {@code file}, which must exist. */
    public MailproxyConfig load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigError(file + ": no such configuration file");
        }
        Config user;
        try {
            user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw new ConfigError(describe(e), e);
        }
        return build(user, file.getFileName().toString());
    }

    /** Loads HOCON text, for tests and for the demo, which writes its configuration in code. */
    public MailproxyConfig loadString(String hocon, String sourceName) {
        Config user;
        try {
            user = ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription(sourceName));
        } catch (ConfigException e) {
            throw new ConfigError(describe(e), e);
        }
        return build(user, sourceName);
    }

    private MailproxyConfig build(Config user, String sourceName) {
        // No substitutions in reference.conf: a class path can hold it twice (a jar and its Class-Path copy), and
        // Typesafe cannot resolve a substitution merged with its own duplicate.
        Config reference = ConfigFactory.parseResources(classLoader, "reference.conf");
        rejectUnknownKeys(user, reference);
        Config merged;
        try {
            merged = ConfigFactory.systemEnvironmentOverrides().withFallback(environmentOverrides())
                    .withFallback(ConfigFactory.systemProperties().withOnlyPath(ROOT).hasPath(ROOT)
                            ? ConfigFactory.systemProperties().withOnlyPath(ROOT) : ConfigFactory.empty())
                    .withFallback(user)
                    .withFallback(reference)
                    .resolveWith(ConfigFactory.systemProperties(), ConfigResolveOptions.defaults());
        } catch (ConfigException e) {
            throw new ConfigError(describe(e), e);
        }
        Config c = merged.getConfig(ROOT);
        Map<String, String> origins = origins(merged);
        return new MailproxyConfig(
                sourceName,
                get(c, "data-dir", k -> dataDir(c, k)),
                new ImapSettings(
                        get(c, "imap.listen", k -> ListenAddress.parse(c.getString(k))),
                        new ImapSettings.Limits(
                                get(c, "imap.limits.max-command-line", k -> intBytes(c, k)),
                                get(c, "imap.limits.max-literal", c::getBytes),
                                get(c, "imap.limits.max-non-sync-literal", k -> intBytes(c, k)),
                                get(c, "imap.limits.max-response-line", k -> intBytes(c, k)),
                                get(c, "imap.limits.max-paren-depth", c::getInt)),
                        get(c, "imap.timeouts.upstream-connect", k -> positive(c.getDuration(k))),
                        get(c, "imap.timeouts.client-idle", k -> positive(c.getDuration(k))),
                        get(c, "imap.timeouts.upstream-reply", k -> positive(c.getDuration(k))),
                        new ImapSettings.EncryptAppends(
                                get(c, "imap.encrypt-appends.special-use", k -> new ImapSettings.EncryptAppends(
                                        c.getStringList(k), List.of()).specialUse()),
                                get(c, "imap.encrypt-appends.folders", k -> new ImapSettings.EncryptAppends(
                                        List.of(), c.getStringList(k)).folders()))),
                new SmtpSettings(
                        get(c, "smtp.listen", k -> ListenAddress.parse(c.getString(k))),
                        new SmtpSettings.Limits(
                                get(c, "smtp.limits.max-command-line", k -> intBytes(c, k)),
                                get(c, "smtp.limits.max-message-size", c::getBytes),
                                get(c, "smtp.limits.max-recipients", c::getInt),
                                get(c, "smtp.limits.max-header-section", k -> intBytes(c, k))),
                        get(c, "smtp.timeouts.upstream-connect", k -> positive(c.getDuration(k))),
                        get(c, "smtp.timeouts.client-idle", k -> positive(c.getDuration(k))),
                        get(c, "smtp.timeouts.upstream-reply", k -> positive(c.getDuration(k)))),
                get(c, "http.listen", k -> "off".equalsIgnoreCase(c.getString(k)) ? Optional.<ListenAddress>empty()
                        : Optional.of(ListenAddress.parse(c.getString(k)))),
                get(c, "http.health-interval", k -> positive(c.getDuration(k))),
                get(c, "tls.trusted-ca-file", k -> optionalPath(c, k, true)),
                new LocalTls(
                        get(c, "local-tls.mode", k -> localTlsMode(c.getString(k))),
                        get(c, "local-tls.cert-file", k -> optionalPath(c, k, true)),
                        get(c, "local-tls.key-file", k -> optionalPath(c, k, true)),
                        get(c, "local-tls.hostnames", c::getStringList)),
                get(c, "shutdown.grace-period", k -> c.getDuration(k)),
                new RemoteAccess(
                        get(c, "allow-remote-clients", c::getBoolean),
                        get(c, "local-auth", k -> choice(c.getString(k), RemoteAccess.LocalAuth.class))),
                accounts(c, origins),
                origins);
    }

    /** Mutable: account settings add their own entries. */
    private static Map<String, String> origins(Config merged) {
        Map<String, String> origins = new java.util.HashMap<>();
        for (Map.Entry<String, ConfigValue> e : merged.getConfig(ROOT).entrySet()) {
            ConfigOrigin o = e.getValue().origin();
            if (o != null && o.resource() == null) {
                origins.put(ROOT + "." + e.getKey(), where(o));
            }
        }
        return origins;
    }

    private Path dataDir(Config c, String key) {
        if (c.hasPath(key) && !c.getString(key).isBlank()) {
            return Path.of(c.getString(key)).toAbsolutePath().normalize();
        }
        String xdg = environment.get("XDG_DATA_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg)
                : Path.of(System.getProperty("user.home"), ".local", "share");
        return base.resolve("mailproxy").toAbsolutePath().normalize();
    }

    private Config environmentOverrides() {
        // Typesafe reads CONFIG_FORCE_* itself only when a system property asks; we always honour it, from the
        // environment this loader was given (so tests can pass their own).
        Map<String, String> forced = new java.util.HashMap<>();
        environment.forEach((k, v) -> {
            if (k.startsWith("CONFIG_FORCE_")) {
                forced.put(k, v);
            }
        });
        if (forced.isEmpty()) {
            return ConfigFactory.empty();
        }
        StringBuilder hocon = new StringBuilder();
        for (Map.Entry<String, String> e : forced.entrySet()) {
            String path = envNameToPath(e.getKey().substring("CONFIG_FORCE_".length()));
            hocon.append(quotePath(path)).append(" = ").append(com.typesafe.config.ConfigValueFactory
                    .fromAnyRef(e.getValue()).render(com.typesafe.config.ConfigRenderOptions.concise())).append('\n');
        }
        return ConfigFactory.parseString(hocon.toString(), ConfigParseOptions.defaults().setOriginDescription("environment"));
    }

    /** Typesafe's mapping: {@code _} is a dot, {@code __} a dash, {@code ___} an underscore. */
    static String envNameToPath(String name) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < name.length()) {
            char ch = name.charAt(i);
            if (ch == '_') {
                int run = 0;
                while (i < name.length() && name.charAt(i) == '_') {
                    run++;
                    i++;
                }
                out.append(run == 1 ? "." : run == 2 ? "-" : "_".repeat(run - 2));
            } else {
                out.append(ch);
                i++;
            }
        }
        return out.toString();
    }

    private static String quotePath(String path) {
        StringBuilder sb = new StringBuilder();
        for (String part : path.split("\\.", -1)) {
            if (sb.length() > 0) sb.append('.');
            sb.append('"').append(part).append('"');
        }
        return sb.toString();
    }

    private static void rejectUnknownKeys(Config user, Config reference) {
        if (!user.hasPath(ROOT) && !user.root().isEmpty()) {
            String first = user.root().keySet().iterator().next();
            throw new ConfigError(where(user.root().get(first).origin()) + first
                    + ": unknown setting; everything lives under \"mailproxy { ... }\"");
        }
        for (String top : user.root().keySet()) {
            if (!top.equals(ROOT)) {
                throw new ConfigError(where(user.root().get(top).origin()) + top + ": unknown setting");
            }
        }
        if (!user.hasPath(ROOT)) {
            return;
        }
        walk(user.getObject(ROOT), reference.getObject(ROOT), ROOT);
    }

    private static void walk(ConfigObject given, ConfigObject known, String prefix) {
        for (Map.Entry<String, ConfigValue> e : given.entrySet()) {
            String path = prefix + "." + e.getKey();
            ConfigValue knownValue = known.get(e.getKey());
            if (knownValue == null && path.equals(ROOT + ".metrics")) {
                throw new ConfigError(where(e.getValue().origin()) + path + ": unknown setting; metrics.listen is "
                        + "now http.listen (one HTTP listener serves /metrics, /health and client autoconfiguration)");
            }
            if (knownValue == null) {
                throw new ConfigError(where(e.getValue().origin()) + path + ": unknown setting"
                        + suggestion(e.getKey(), known.keySet()));
            }
            if (path.equals(ROOT + ".accounts")) {
                checkAccounts(e.getValue());
            } else if (knownValue.valueType() == ConfigValueType.OBJECT) {
                if (e.getValue().valueType() != ConfigValueType.OBJECT) {
                    throw new ConfigError(where(e.getValue().origin()) + path + ": expected a block { ... }");
                }
                walk((ConfigObject) e.getValue(), (ConfigObject) knownValue, path);
            }
        }
    }

    private static void checkAccounts(ConfigValue value) {
        if (value.valueType() != ConfigValueType.LIST) {
            throw new ConfigError(where(value.origin()) + "mailproxy.accounts: expected a list [ { ... } ]");
        }
        int i = 0;
        for (ConfigValue entry : (com.typesafe.config.ConfigList) value) {
            String prefix = "mailproxy.accounts[" + i++ + "]";
            if (entry.valueType() != ConfigValueType.OBJECT) {
                throw new ConfigError(where(entry.origin()) + prefix + ": expected a block { ... }");
            }
            Config account = ((ConfigObject) entry).toConfig();
            Set<String> seen = new HashSet<>();
            for (Map.Entry<String, ConfigValue> e : account.entrySet()) {
                seen.add(e.getKey());
                if (e.getKey().equals("policy")) {
                    throw new ConfigError(where(e.getValue().origin()) + prefix + ".policy: expected a block "
                            + "{ encrypt = opportunistic, sign = when-encrypting, ... }");
                }
                if (e.getKey().equals("key")) {
                    throw new ConfigError(where(e.getValue().origin()) + prefix + ".key: expected a block "
                            + "{ fingerprint = ..., passphrase-file = ... }");
                }
                if (!ACCOUNT_KEYS.contains(e.getKey())) {
                    throw new ConfigError(where(e.getValue().origin()) + prefix + "." + e.getKey() + ": unknown setting"
                            + suggestion(e.getKey(), ACCOUNT_KEYS));
                }
            }
        }
    }

    private static List<Account> accounts(Config c, Map<String, String> origins) {
        List<Account> accounts = new ArrayList<>();
        List<? extends ConfigObject> list = get(c, "accounts", c::getObjectList);
        Set<String> logins = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Config a = list.get(i).toConfig();
            String prefix = "mailproxy.accounts[" + i + "]";
            String email = required(a, "email", prefix, list.get(i).origin(), a::getString);
            if (!email.matches("[^@\\s]+@[^@\\s]+")) {
                throw new ConfigError(where(a.getValue("email").origin()) + prefix + ".email: \"" + email + "\" is not an email address");
            }
            String login = a.hasPath("login") ? a.getString("login") : email;
            if (!logins.add(login.toLowerCase(Locale.ROOT))) {
                throw new ConfigError(where(list.get(i).origin()) + prefix + ": login \"" + login + "\" is used by two accounts");
            }
            UpstreamEndpoint imap = required(a, "imap.upstream", prefix, list.get(i).origin(),
                    k -> UpstreamEndpoint.parse(a.getString(k), UpstreamEndpoint.Protocol.IMAP));
            UpstreamEndpoint smtp = required(a, "smtp.upstream", prefix, list.get(i).origin(),
                    k -> UpstreamEndpoint.parse(a.getString(k), UpstreamEndpoint.Protocol.SMTP));
            KeySettings key = keySettings(a, prefix, list.get(i).origin());
            for (String k : List.of("key.fingerprint", "key.passphrase-file", "key.passphrase-credential")) {
                if (a.hasPath(k)) {
                    origins.put(prefix + "." + k, where(a.getValue(k).origin()));
                }
            }
            accounts.add(new Account(email, login, imap, smtp, key, sendPolicy(a, prefix)));
        }
        return accounts;
    }

    private static SendPolicy sendPolicy(Config a, String prefix) {
        SendPolicy d = SendPolicy.DEFAULT;
        SendPolicy.Encrypt encrypt = optional(a, "policy.encrypt", prefix, k -> encryptMode(a.getString(k)))
                .orElse(d.encrypt());
        SendPolicy.Sign sign = optional(a, "policy.sign", prefix, k -> choice(a.getString(k), SendPolicy.Sign.class))
                .orElse(d.sign());
        String subject = optional(a, "policy.obscured-subject", prefix, k -> {
            String s = a.getString(k);
            if (s.isBlank() || s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("one non-empty line of text");
            }
            return s;
        }).orElse(d.obscuredSubject());
        boolean autocrypt = optional(a, "policy.autocrypt", prefix, a::getBoolean).orElse(d.autocrypt());
        List<SendPolicy.Rule> rules = optional(a, "policy.rules", prefix, k -> {
            List<SendPolicy.Rule> out = new ArrayList<>();
            for (ConfigObject o : a.getObjectList(k)) {
                Config r = o.toConfig();
                if (!r.hasPath("match") || !r.hasPath("encrypt") || r.entrySet().size() != 2) {
                    throw new IllegalArgumentException("each rule is { match = \"example.org\" or \"bob@example.org\", "
                            + "encrypt = required | opportunistic | never }");
                }
                out.add(new SendPolicy.Rule(r.getString("match"), encryptMode(r.getString("encrypt"))));
            }
            return out;
        }).orElse(d.rules());
        return new SendPolicy(encrypt, sign, rules, subject, autocrypt);
    }

    private static SendPolicy.Encrypt encryptMode(String s) {
        return choice(s, SendPolicy.Encrypt.class);
    }

    /** An enum constant written in the config's style: lower case with dashes ("when-encrypting"). */
    private static <E extends Enum<E>> E choice(String s, Class<E> type) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).replace('_', '-').equals(s.trim().toLowerCase(Locale.ROOT))) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : " | ").append(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        throw new IllegalArgumentException("\"" + s + "\" is not one of " + allowed);
    }

    private static KeySettings keySettings(Config a, String prefix, ConfigOrigin entryOrigin) {
        Optional<String> fingerprint = optional(a, "key.fingerprint", prefix, k -> fingerprint(a.getString(k)));
        Optional<Path> file = optional(a, "key.passphrase-file", prefix, k -> {
            String s = a.getString(k);
            if (s.isBlank()) {
                throw new IllegalArgumentException("empty path");
            }
            return Path.of(s).toAbsolutePath().normalize();
        });
        Optional<String> credential = optional(a, "key.passphrase-credential", prefix, k -> {
            String s = a.getString(k);
            // systemd credential names are plain file names in $CREDENTIALS_DIRECTORY (systemd.exec(5))
            if (s.isEmpty() || s.contains("/") || s.equals(".") || s.equals("..") || s.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("\"" + s + "\" is not a credential name (a plain file name in "
                        + "$CREDENTIALS_DIRECTORY)");
            }
            return s;
        });
        if (file.isPresent() && credential.isPresent()) {
            throw new ConfigError(where(a.getValue("key.passphrase-credential").origin()) + prefix
                    + ".key: passphrase-file and passphrase-credential both given; keep one");
        }
        return new KeySettings(fingerprint, file, credential);
    }

    /** A v4 (40 hex digits) or v6 (64) fingerprint, spaces and a 0x prefix allowed, normalised to upper case. */
    private static String fingerprint(String s) {
        String f = s.replace(" ", "").toUpperCase(Locale.ROOT);
        if (f.startsWith("0X")) {
            f = f.substring(2);
        }
        if (!f.matches("[0-9A-F]{40}|[0-9A-F]{64}")) {
            throw new IllegalArgumentException("\"" + s + "\" is not a key fingerprint (40 or 64 hex digits, as "
                    + "mailproxy keys list shows)");
        }
        return f;
    }

    private static <T> Optional<T> optional(Config a, String key, String prefix, Function<String, T> read) {
        if (!a.hasPath(key)) {
            return Optional.empty();
        }
        return Optional.of(required(a, key, prefix, null, read));
    }

    private static <T> T required(Config a, String key, String prefix, ConfigOrigin entryOrigin, Function<String, T> read) {
        if (!a.hasPath(key)) {
            throw new ConfigError(where(entryOrigin) + prefix + "." + key + ": missing (required)");
        }
        try {
            return read.apply(key);
        } catch (ConfigException e) {
            throw new ConfigError(where(a.getValue(key).origin()) + prefix + "." + key + ": " + stripOrigin(e), e);
        } catch (IllegalArgumentException e) {
            throw new ConfigError(where(a.getValue(key).origin()) + prefix + "." + key + ": " + e.getMessage(), e);
        }
    }

    private static <T> T get(Config c, String key, Function<String, T> read) {
        try {
            return read.apply(key);
        } catch (ConfigException e) {
            throw new ConfigError(whereOf(c, key) + ROOT + "." + key + ": " + stripOrigin(e), e);
        } catch (IllegalArgumentException e) {
            throw new ConfigError(whereOf(c, key) + ROOT + "." + key + ": " + e.getMessage(), e);
        }
    }

    private static String whereOf(Config c, String key) {
        try {
            return c.hasPathOrNull(key) && !c.getIsNull(key) ? where(c.getValue(key).origin()) : "";
        } catch (ConfigException e) {
            return "";
        }
    }

    private static Optional<Path> optionalPath(Config c, String key, boolean mustExist) {
        if (!c.hasPathOrNull(key) || c.getIsNull(key) || c.getString(key).isBlank()) {
            return Optional.empty();
        }
        Path p = Path.of(c.getString(key)).toAbsolutePath().normalize();
        if (mustExist && !Files.isReadable(p)) {
            throw new IllegalArgumentException("file " + p + " does not exist or cannot be read");
        }
        return Optional.of(p);
    }

    private static LocalTls.Mode localTlsMode(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "off" -> LocalTls.Mode.OFF;
            case "starttls" -> LocalTls.Mode.STARTTLS;
            case "implicit" -> LocalTls.Mode.IMPLICIT;
            default -> throw new IllegalArgumentException("\"" + s + "\" is not one of off, starttls, implicit");
        };
    }

    private static int intBytes(Config c, String key) {
        long v = c.getBytes(key);
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("must be between 0 and " + Integer.MAX_VALUE + " bytes");
        }
        return (int) v;
    }

    private static Duration positive(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("must be a positive duration");
        }
        return d;
    }

    private static String where(ConfigOrigin origin) {
        if (origin == null) {
            return "";
        }
        String file = origin.filename() != null ? Path.of(origin.filename()).getFileName().toString() : origin.description();
        if (file != null && file.contains(": ")) {
            file = file.substring(0, file.indexOf(": "));
        }
        return origin.lineNumber() > 0 ? file + ":" + origin.lineNumber() + ": " : file + ": ";
    }

    private static String describe(ConfigException e) {
        return e.origin() != null ? where(e.origin()) + stripOrigin(e) : e.getMessage();
    }

    private static String stripOrigin(ConfigException e) {
        String m = e.getMessage();
        if (e.origin() != null) {
            String d = e.origin().description();
            if (m.startsWith(d + ": ")) {
                m = m.substring(d.length() + 2);
            }
        }
        return m;
    }

    private static String suggestion(String key, Set<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(key, k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        return best == null ? "" : " (did you mean \"" + best + "\"?)";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1], prev[j]) + 1, prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
