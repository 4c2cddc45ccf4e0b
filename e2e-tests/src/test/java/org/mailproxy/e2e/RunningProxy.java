package org.mailproxy.e2e;

import org.mailproxy.app.Daemon;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.testing.UpstreamStack;
import org.mailproxy.testing.MailUser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Map;

/**
 * The whole daemon ({@link Daemon#start}) configured from HOCON exactly as a user would write it: every test user
 * of the mail stack is an account, upstream TLS trusts only the stack's test CA, listeners pick free loopback
 * ports, the data directory is owner-only (the daemon refuses anything else, SECURITY.md 23).
 */
final class RunningProxy implements AutoCloseable {

    /** How the proxy talks to a local client ({@code mailproxy.local-tls.mode}). */
    enum Local {
        OFF, STARTTLS, IMPLICIT;

        String configValue() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How the proxy reaches the provider: implicit TLS or mandatory STARTTLS (RFC 8314). */
    enum Upstream { IMPLICIT, STARTTLS }

    private final Daemon daemon;
    private final Path dataDir;

    private RunningProxy(Daemon daemon, Path dataDir) {
        this.daemon = daemon;
        this.dataDir = dataDir;
    }

    static RunningProxy start(UpstreamStack stack, Path dir, Local local, Upstream upstream) {
        return start(stack, dir, local, upstream, "");
    }

    /** @param extra more HOCON inside the {@code mailproxy} block, e.g. limits */
    static RunningProxy start(UpstreamStack stack, Path dir, Local local, Upstream upstream, String extra) {
        return start(stack, dir, local, upstream, extra, Map.of());
    }

    /**
     * @param extra        more HOCON inside the {@code mailproxy} block, e.g. limits
     * @param accountExtra more HOCON inside an account's block, by the account's email (e.g. its key and policy)
     */
    static RunningProxy start(UpstreamStack stack, Path dir, Local local, Upstream upstream, String extra,
                              Map<String, String> accountExtra) {
        Path dataDir = dir.resolve("data");
        try {
            Files.createDirectories(dataDir);
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String imapUrl = upstream == Upstream.IMPLICIT
                ? "imaps://" + stack.host() + ":" + stack.imapsPort()
                : "imap+starttls://" + stack.host() + ":" + stack.imapStarttlsPort();
        String smtpUrl = upstream == Upstream.IMPLICIT
                ? "smtps://" + stack.host() + ":" + stack.submissionsPort()
                : "smtp+starttls://" + stack.host() + ":" + stack.submissionPort();
        StringBuilder accounts = new StringBuilder();
        for (MailUser u : stack.users()) {
            accounts.append("    { email = \"").append(u.email()).append("\", login = \"").append(u.login())
                    .append("\", imap.upstream = \"").append(imapUrl)
                    .append("\", smtp.upstream = \"").append(smtpUrl).append("\"\n")
                    .append(accountExtra.getOrDefault(u.email(), "")).append("\n    }\n");
        }
        String hocon = "mailproxy {\n"
                + "  data-dir = \"" + dataDir + "\"\n"
                + "  imap.listen = \"127.0.0.1:0\"\n"
                + "  smtp.listen = \"127.0.0.1:0\"\n"
                + "  http.listen = off\n"
                + "  tls.trusted-ca-file = \"" + stack.caCertFile() + "\"\n"
                + "  local-tls.mode = " + local.configValue() + "\n"
                + "  shutdown.grace-period = 2s\n"
                + "  accounts = [\n" + accounts + "  ]\n"
                + extra + "\n"
                + "}\n";
        MailproxyConfig config = new ConfigLoader(Map.of()).loadString(hocon, "e2e.conf");
        return new RunningProxy(Daemon.start(config), dataDir);
    }

    int imapPort() {
        return daemon.imapAddress().getPort();
    }

    int smtpPort() {
        return daemon.smtpAddress().getPort();
    }

    /** The certificate the proxy generated for local TLS; clients trust exactly this one. */
    Path localCert() {
        return dataDir.resolve("tls").resolve("local-cert.pem");
    }

    Daemon daemon() {
        return daemon;
    }

    @Override
    public void close() {
        daemon.close();
    }
}
