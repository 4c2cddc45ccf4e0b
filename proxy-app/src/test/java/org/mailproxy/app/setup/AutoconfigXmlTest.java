package org.mailproxy.app.setup;

import org.junit.jupiter.api.Test;
import org.mailproxy.config.UpstreamEndpoint;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading config-v1.1.xml: which server is chosen, placeholders, and documents that are refused. */
class AutoconfigXmlTest {

    private static final String EMAIL = "alice.b@example.com";
    private static final String SOURCE = "https://autoconfig.example.com/mail/config-v1.1.xml";

    private static DiscoveryResult parse(String xml) throws AutoconfigException {
        return AutoconfigXml.parse(xml.getBytes(StandardCharsets.UTF_8), EMAIL, SOURCE);
    }

    static String server(String element, String type, String host, String port, String socket, String user,
                         String... auth) {
        StringBuilder b = new StringBuilder("<" + element + " type=\"" + type + "\"><hostname>" + host
                + "</hostname><port>" + port + "</port><socketType>" + socket + "</socketType>");
        for (String a : auth) {
            b.append("<authentication>").append(a).append("</authentication>");
        }
        return b.append("<username>").append(user).append("</username></").append(element).append(">").toString();
    }

    static String config(String... servers) {
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">"
                + "<emailProvider id=\"example.com\"><domain>example.com</domain>"
                + String.join("", servers) + "</emailProvider></clientConfig>";
    }

    @Test
    void implicitTlsIsPreferredToStartTlsAndPlaceholdersAreFilledIn() throws Exception {
        DiscoveryResult r = parse(config(
                server("incomingServer", "pop3", "pop.example.com", "995", "SSL", "%EMAILADDRESS%"),
                server("incomingServer", "imap", "imap.%EMAILDOMAIN%", "143", "STARTTLS", "%EMAILADDRESS%", "password-cleartext"),
                server("incomingServer", "imap", "imap.%EMAILDOMAIN%", "993", "SSL", "%EMAILLOCALPART%", "password-cleartext"),
                server("outgoingServer", "smtp", "smtp.example.com", "587", "STARTTLS", "%EMAILADDRESS%"),
                server("outgoingServer", "smtp", "smtp.example.com", "465", "SSL", "%EMAILADDRESS%")));
        assertThat(r.imap().orElseThrow().endpoint()).isEqualTo(UpstreamEndpoint.parse("imaps://imap.example.com:993", UpstreamEndpoint.Protocol.IMAP));
        assertThat(r.imap().get().username()).contains("alice.b");
        assertThat(r.imap().get().source()).isEqualTo(SOURCE);
        assertThat(r.imap().get().authenticated()).isTrue();
        assertThat(r.smtp().orElseThrow().endpoint().toString()).isEqualTo("smtps://smtp.example.com:465");
        assertThat(r.smtp().get().username()).contains(EMAIL);
        assertThat(r.username()).contains("alice.b");
        assertThat(r.notes()).isEmpty();
    }

    @Test
    void startTlsIsTakenWhenThereIsNothingBetter() throws Exception {
        DiscoveryResult r = parse(config(
                server("incomingServer", "imap", "imap.example.com", "143", "STARTTLS", "%EMAILADDRESS%"),
                server("outgoingServer", "smtp", "smtp.example.com", "587", "STARTTLS", "%EMAILADDRESS%")));
        assertThat(r.imap().orElseThrow().endpoint().toString()).isEqualTo("imap+starttls://imap.example.com:143");
        assertThat(r.smtp().orElseThrow().endpoint().toString()).isEqualTo("smtp+starttls://smtp.example.com:587");
    }

    @Test
    void plainOnlyServersAreRefused() throws Exception {
        DiscoveryResult r = parse(config(
                server("incomingServer", "imap", "imap.example.com", "143", "plain", "%EMAILADDRESS%"),
                server("outgoingServer", "smtp", "smtp.example.com", "25", "plain", "%EMAILADDRESS%")));
        assertThat(r.imap()).isEmpty();
        assertThat(r.smtp()).isEmpty();
        assertThat(r.notes()).hasSize(2).allMatch(n -> n.contains("offers no TLS"));
    }

    @Test
    void aServerThatTakesAPasswordIsPreferredToAnOAuthOnlyOne() throws Exception {
        DiscoveryResult r = parse(config(
                server("incomingServer", "imap", "oauth.example.com", "993", "SSL", "%EMAILADDRESS%", "OAuth2"),
                server("incomingServer", "imap", "imap.example.com", "143", "STARTTLS", "%EMAILADDRESS%", "OAuth2", "password-cleartext")));
        assertThat(r.imap().orElseThrow().endpoint().host()).isEqualTo("imap.example.com");
    }

    @Test
    void bogusPortsAndHostNamesAreSkipped() throws Exception {
        DiscoveryResult r = parse(config(
                server("incomingServer", "imap", "imap.example.com", "0", "SSL", "x"),
                server("incomingServer", "imap", "imap.example.com", "70000", "SSL", "x"),
                server("incomingServer", "imap", "imap.example.com", "99three", "SSL", "x"),
                server("incomingServer", "imap", "evil.example/\"x", "993", "SSL", "x"),
                server("incomingServer", "imap", "", "993", "SSL", "x"),
                server("incomingServer", "imap", "imap.example.com", "1993", "SSL", "x"),
                server("outgoingServer", "smtp", "smtp.example.com", "-465", "SSL", "x")));
        assertThat(r.imap().orElseThrow().endpoint().port()).isEqualTo(1993);
        assertThat(r.smtp()).isEmpty();
        assertThat(r.notes()).hasSize(6);
        assertThat(r.notes()).filteredOn(n -> n.contains("bad port")).hasSize(4);
        assertThat(r.notes()).filteredOn(n -> n.contains("is not a host name")).hasSize(2);
    }

    @Test
    void anExternalEntityIsRefusedBeforeAnythingIsRead() {
        String xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE clientConfig [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                + "<clientConfig version=\"1.1\"><emailProvider id=\"x\">"
                + server("incomingServer", "imap", "imap.example.com", "993", "SSL", "&xxe;")
                + "</emailProvider></clientConfig>";
        assertThatThrownBy(() -> parse(xxe)).isInstanceOf(AutoconfigException.class)
                .hasMessageContaining("DOCTYPE").hasMessageNotContaining("root:");
    }

    @Test
    void entityExpansionIsRefused() {
        String laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                + "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                + "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
                + "<clientConfig>&lol3;</clientConfig>";
        assertThatThrownBy(() -> parse(laughs)).isInstanceOf(AutoconfigException.class).hasMessageContaining("DOCTYPE");
    }

    @Test
    void anOversizedDocumentIsRefused() {
        String big = config(server("incomingServer", "imap", "imap.example.com", "993", "SSL", "x"),
                "<!--" + "x".repeat(AutoconfigXml.MAX_BYTES) + "-->");
        assertThatThrownBy(() -> parse(big)).isInstanceOf(AutoconfigException.class).hasMessageContaining("larger than");
    }

    @Test
    void malformedAndForeignDocumentsAreRefused() {
        assertThatThrownBy(() -> parse("<clientConfig><emailProvider>")).isInstanceOf(AutoconfigException.class)
                .hasMessageContaining("not well-formed");
        assertThatThrownBy(() -> parse("<html><body>Not found</body></html>")).isInstanceOf(AutoconfigException.class)
                .hasMessageContaining("not an autoconfig document");
        assertThatThrownBy(() -> parse("")).isInstanceOf(AutoconfigException.class);
    }

    @Test
    void anEmptyUsernameLeavesTheLoginToBeAsked() throws Exception {
        DiscoveryResult r = parse(config(server("incomingServer", "imap", "imap.example.com", "993", "SSL", "")));
        assertThat(r.imap().orElseThrow().username()).isEqualTo(Optional.empty());
    }

    @Test
    void onlyAnAnswerOverHttpsCountsAsAuthenticated() throws Exception {
        String xml = config(server("incomingServer", "imap", "imap.example.com", "993", "SSL", "x"));
        DiscoveryResult plain = AutoconfigXml.parse(xml.getBytes(StandardCharsets.UTF_8), EMAIL,
                "http://autoconfig.example.com/mail/config-v1.1.xml");
        assertThat(plain.imap().orElseThrow().authenticated()).isFalse();
        assertThat(parse(xml).imap().orElseThrow().authenticated()).isTrue();
    }
}
