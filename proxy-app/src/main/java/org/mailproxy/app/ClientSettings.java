package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.core.crypto.openpgp.KeyInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@code mailproxy init} prints at the end: what to enter in the mail client (the proxy's own listeners, not the
 * provider's), the certificate the client must trust, and what to run next. The local certificate is generated
 * here when missing (as the daemon would at its first start), so its fingerprint can be compared with what the mail
 * client shows when it asks whether to trust it.
 */
final class ClientSettings {

    private ClientSettings() {
    }

    static void print(PrintWriter out, MailproxyConfig cfg, Path configFile, String email, KeyInfo key,
                      boolean localAuth, String localPassword, String keyOrigin) {
        String security = switch (cfg.localTls().mode()) {
            case STARTTLS -> "STARTTLS";
            case IMPLICIT -> "SSL/TLS";
            case OFF -> "none";
        };
        Optional<Path> cert = localCertificate(cfg);
        String login = cfg.accounts().get(0).login();
        out.println();
        out.println("mailproxy is set up for " + email + ".");
        out.println("  configuration:  " + configFile);
        out.println("  data directory: " + cfg.dataDir() + " (owner-only)");
        out.println("  key:            " + key.fingerprint() + " (" + keyOrigin + ")");
        cfg.accounts().get(0).key().passphraseFile().ifPresent(f ->
                out.println("                  unlocked at start with the passphrase in " + f));
        out.println();
        out.println("Mail client settings:");
        out.println("  incoming (IMAP):  server " + clientHost(cfg.imap().listen()) + ", port "
                + cfg.imap().listen().port() + ", security " + security);
        out.println("  outgoing (SMTP):  server " + clientHost(cfg.smtp().listen()) + ", port "
                + cfg.smtp().listen().port() + ", security " + security);
        out.println("  username:         " + (localAuth ? email : login));
        if (localAuth) {
            out.println("  password:         " + localPassword + "  (the local password; `mailproxy accounts "
                    + "show-password " + email + "` shows it again)");
        } else {
            out.println("  password:         your password at the provider (passed on to it)");
        }
        cert.ifPresent(c -> {
            out.println("  trust the proxy's certificate: " + c);
            out.println("    SHA-256 fingerprint: " + sha256(c));
            out.println("    valid for: " + String.join(", ", cfg.localTls().hostnames()));
        });
        if (cert.isPresent() && (InitPlan.wildcard(cfg.imap().listen().host())
                || InitPlan.wildcard(cfg.smtp().listen().host()))) {
            // The generated certificate can only name what it was told; clients elsewhere connect by some other name.
            out.println("  other machines must connect by a name the certificate is valid for: add it to");
            out.println("    local-tls.hostnames and remove " + cert.get().getParent() + " to make a new one");
        }
        out.println();
        out.println("Next steps:");
        String config = " --config " + DataDirectory.shellQuote(configFile);
        out.println("  mailproxy check" + config + " --login   (tests the provider's servers and your password)");
        out.println("  mailproxy run" + config);
        if (cfg.accounts().get(0).key().passphraseFile().isEmpty()) {
            out.println("  mailproxy keys unlock " + email + config + "   (once it runs: the key stays locked until then)");
        }
        out.flush();
    }

    /** What a client on this machine connects to; a wildcard listener is reached through any of its addresses. */
    private static String clientHost(ListenAddress a) {
        if (InitPlan.wildcard(a.host())) {
            return "<this machine's name or address>";
        }
        return a.host().contains(":") ? "[" + a.host() + "]" : a.host();
    }

    /** The certificate local clients see, made the way the daemon makes it (owner-only, in data-dir/tls). */
    private static Optional<Path> localCertificate(MailproxyConfig cfg) {
        return Daemon.localTls(cfg, cfg.dataDir()).certificateFile();
    }

    /** The SHA-256 fingerprint of the first certificate in a PEM file, as clients show it (AB:CD:...). */
    static String sha256(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(in);
            byte[] d = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigError(pem + ": cannot read the certificate: " + e.getMessage().toLowerCase(Locale.ROOT), e);
        }
    }
}
