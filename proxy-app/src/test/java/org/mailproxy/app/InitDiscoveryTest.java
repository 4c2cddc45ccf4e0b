package org.mailproxy.app;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.app.setup.AutoconfigServer;
import org.mailproxy.app.setup.Dnsmasq;
import org.mailproxy.config.Account;
import org.mailproxy.config.ConfigLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mailproxy init} with discovery on loopback (an HTTPS autoconfig server and dnsmasq for SRV): what is taken
 * unattended, what needs confirmation, and how autoconfig and SRV answers combine.
 */
class InitDiscoveryTest {

    private static final String PASSPHRASE = "a long passphrase for the test key";

    @TempDir
    static Path shared;

    @TempDir
    Path tmp;

    private static AutoconfigServer web;
    private static Dnsmasq dns;

    @BeforeAll
    static void start() throws Exception {
        web = AutoconfigServer.start(shared);
        web.serve("/mixed.test/mail/config-v1.1.xml", "<clientConfig version=\"1.1\"><emailProvider id=\"mixed.test\">"
                + "<incomingServer type=\"imap\"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port>"
                + "<socketType>SSL</socketType><username>%EMAILLOCALPART%</username></incomingServer>"
                + "<outgoingServer type=\"smtp\"><hostname>smtp.mixed.test</hostname><port>25</port>"
                + "<socketType>plain</socketType><username>%EMAILLOCALPART%</username></outgoingServer>"
                + "</emailProvider></clientConfig>");
        dns = Dnsmasq.start(shared.resolve("dnsmasq.log"),
                "_imaps._tcp.srv.test,imap.srv.test,993,0,0",
                "_submissions._tcp.srv.test,smtp.srv.test,465,0,0",
                "_imaps._tcp.elsewhere.test,imap.provider.example,993,0,0",
                "_submissions._tcp.elsewhere.test,smtp.provider.example,465,0,0",
                "_imaps._tcp.mixed.test,imap2.mixed.test,993,0,0",
                "_submission._tcp.mixed.test,smtp.mixed.test,587,0,0");
    }

    @AfterAll
    static void stop() {
        if (dns != null) {
            dns.close();
        }
        if (web != null) {
            web.close();
        }
    }

    private Path conf() {
        return tmp.resolve("mailproxy.conf");
    }

    private List<String> args(String email, boolean interactive, String... more) throws Exception {
        Path pass = tmp.resolve("passphrase");
        Files.writeString(pass, PASSPHRASE + "\n");
        Files.setPosixFilePermissions(pass, PosixFilePermissions.fromString("rw-------"));
        List<String> a = new ArrayList<>(List.of("init", "--config", conf().toString(), "--data-dir",
                tmp.resolve("data").toString(), "--email", email, "--generate-key", "--passphrase-file", pass.toString(),
                "--autoconfig-url", web.base() + "/{domain}/mail/config-v1.1.xml",
                "--autoconfig-ca", web.certificate().toString(), "--dns-server", dns.server()));
        if (!interactive) {
            a.add("--non-interactive");
        }
        a.addAll(List.of(more));
        return a;
    }

    private TestFiles.Run run(ScriptedTerminal t, List<String> args) {
        return t.run(Map.of(), tmp, args.toArray(String[]::new));
    }

    private Account account() {
        return new ConfigLoader(Map.of()).load(conf()).accounts().get(0);
    }

    @Test
    void autoconfigAndSrvCombineAutoconfigWinningWhereBothAnswer() throws Exception {
        TestFiles.Run r = run(new ScriptedTerminal(), args("dana@mixed.test", false));
        assertThat(r.err()).isEmpty();
        assertThat(r.exitCode()).isZero();
        Account a = account();
        // IMAP from autoconfig (over HTTPS), though SRV names another host; SMTP from SRV, since autoconfig only
        // offered a plain-text server.
        assertThat(a.imapUpstream()).hasToString("imaps://imap.mixed.test:993");
        assertThat(a.smtpUpstream()).hasToString("smtp+starttls://smtp.mixed.test:587");
        assertThat(a.login()).isEqualTo("dana");
        assertThat(r.out()).contains("offers no TLS")
                .contains("DNS SRV _imaps._tcp.mixed.test names imaps://imap2.mixed.test:993, autoconfig names "
                        + "imaps://imap.mixed.test:993; autoconfig (over HTTPS) is used");
        assertThat(web.requests).contains("/mixed.test/mail/config-v1.1.xml");
    }

    @Test
    void srvHostsUnderTheAddressDomainAreTakenUnattended() throws Exception {
        TestFiles.Run r = run(new ScriptedTerminal(), args("erik@srv.test", false));
        assertThat(r.exitCode()).isZero();
        assertThat(account().imapUpstream()).hasToString("imaps://imap.srv.test:993");
        assertThat(account().smtpUpstream()).hasToString("smtps://smtp.srv.test:465");
        assertThat(account().login()).isEqualTo("erik@srv.test");
    }

    @Test
    void srvHostsElsewhereNeedConfirmation() throws Exception {
        TestFiles.Run r = run(new ScriptedTerminal(), args("fay@elsewhere.test", false));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("imaps://imap.provider.example:993, outside elsewhere.test")
                .contains("--imap imaps://imap.provider.example:993");
        assertThat(conf()).doesNotExist();

        // With flags they are the user's own choice.
        TestFiles.Run confirmed = run(new ScriptedTerminal(), args("fay@elsewhere.test", false,
                "--imap", "imaps://imap.provider.example:993", "--smtp", "smtps://smtp.provider.example:465"));
        assertThat(confirmed.exitCode()).isZero();

        // On the terminal they are shown with a warning and taken on Enter.
        ScriptedTerminal t = new ScriptedTerminal("", "", "", "");
        TestFiles.Run asked = run(t, args("fay@elsewhere.test", true, "--force"));
        assertThat(asked.err()).isEmpty();
        assertThat(asked.exitCode()).isZero();
        assertThat(t.prompts.get(0)).endsWith("[imaps://imap.provider.example:993]: ");
        assertThat(asked.out()).contains("careful: imap.provider.example is not under elsewhere.test");
        assertThat(account().smtpUpstream()).hasToString("smtps://smtp.provider.example:465");
    }

    @Test
    void nothingDiscoveredNeedsTheFlags() throws Exception {
        TestFiles.Run r = run(new ScriptedTerminal(), args("gus@nothing.test", false));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--imap imaps://HOST:993 or imap+starttls://HOST:143 is needed");
        assertThat(r.out()).contains("nothing found");
    }
}
