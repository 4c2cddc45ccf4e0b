package org.mailproxy.app;

import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.MailproxyConfig;
import org.mailproxy.config.UpstreamEndpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The configuration {@code mailproxy init} writes, built from the answers. Only settings the person chose appear;
 * a listen address equal to the default is left out, so every default stays in {@code reference.conf}.
 */
final class InitPlan {

    private String email;
    private String login;
    private UpstreamEndpoint imap;
    private UpstreamEndpoint smtp;
    private ListenAddress imapListen;
    private ListenAddress smtpListen;
    private boolean remote;
    private List<String> localTlsHostnames;
    private Path dataDir;
    private Path trustedCaFile;
    private String fingerprint;
    private Path passphraseFile;

    InitPlan email(String email) {
        this.email = email;
        return this;
    }

    InitPlan login(String login) {
        this.login = login;
        return this;
    }

    InitPlan imap(UpstreamEndpoint imap) {
        this.imap = imap;
        return this;
    }

    InitPlan smtp(UpstreamEndpoint smtp) {
        this.smtp = smtp;
        return this;
    }

    /**
     * The listeners; those equal to the defaults are not written. Beyond loopback the daemon refuses to start
     * unless remote clients are allowed explicitly (and local authentication is then in force), and the
     * generated local certificate must also name the address clients connect to.
     */
    InitPlan listen(ListenAddress imapAt, ListenAddress smtpAt, MailproxyConfig defaults) {
        this.imapListen = imapAt.equals(defaults.imap().listen()) ? null : imapAt;
        this.smtpListen = smtpAt.equals(defaults.smtp().listen()) ? null : smtpAt;
        this.remote = !imapAt.isLoopback() || !smtpAt.isLoopback();
        List<String> names = new ArrayList<>(defaults.localTls().hostnames());
        for (ListenAddress a : List.of(imapAt, smtpAt)) {
            if (!a.isLoopback() && !wildcard(a.host()) && !names.contains(a.host())) {
                names.add(a.host());
            }
        }
        this.localTlsHostnames = names.equals(defaults.localTls().hostnames()) ? null : names;
        return this;
    }

    static boolean wildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }

    InitPlan dataDir(Path dataDir) {
        this.dataDir = dataDir;
        return this;
    }

    InitPlan trustedCaFile(Path file) {
        this.trustedCaFile = file;
        return this;
    }

    InitPlan key(String fingerprint, Path passphraseFile) {
        this.fingerprint = fingerprint;
        this.passphraseFile = passphraseFile;
        return this;
    }

    /** The HOCON text of the configuration file. */
    String configText() {
        StringBuilder b = new StringBuilder();
        b.append("# Written by `mailproxy init`. Only what was chosen is here: every other setting keeps its default\n")
                .append("# (listed with explanations in reference.conf, see the README). `mailproxy check` tests this file.\n")
                .append("mailproxy {\n");
        if (dataDir != null) {
            b.append("  data-dir = ").append(q(dataDir)).append('\n');
        }
        if (remote) {
            b.append("  # The listeners below reach beyond this machine: clients must log in with the account's local\n")
                    .append("  # password (`mailproxy accounts show-password ").append(email).append("`).\n")
                    .append("  allow-remote-clients = true\n");
        }
        if (imapListen != null) {
            b.append("  imap.listen = ").append(q(imapListen)).append('\n');
        }
        if (smtpListen != null) {
            b.append("  smtp.listen = ").append(q(smtpListen)).append('\n');
        }
        if (localTlsHostnames != null) {
            b.append("  local-tls.hostnames = [");
            for (int i = 0; i < localTlsHostnames.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(q(localTlsHostnames.get(i)));
            }
            b.append("]\n");
        }
        if (trustedCaFile != null) {
            b.append("  tls.trusted-ca-file = ").append(q(trustedCaFile)).append('\n');
        }
        b.append("  accounts = [\n    {\n")
                .append("      email = ").append(q(email)).append('\n')
                .append("      login = ").append(q(login)).append('\n')
                .append("      imap.upstream = ").append(q(imap)).append('\n')
                .append("      smtp.upstream = ").append(q(smtp)).append('\n');
        if (fingerprint != null) {
            b.append("      key { fingerprint = ").append(q(fingerprint));
            if (passphraseFile != null) {
                b.append(", passphrase-file = ").append(q(passphraseFile));
            }
            b.append(" }\n");
        }
        b.append("    }\n  ]\n}\n");
        return b.toString();
    }

    private static String q(Object value) {
        return Demo.quote(value.toString());
    }

    /**
     * Writes {@code text} to {@code file} whole or not at all (a temporary file beside it, then a rename), owner-only:
     * the file names the key and the passphrase file, which is nobody else's business.
     */
    static void write(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".mailproxy-init", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            if (Files.isSymbolicLink(file)) {
                // Replace what the link points to, not the link.
                file = file.toRealPath();
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(file + " was not written");
        }
    }
}
