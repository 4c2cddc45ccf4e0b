package org.mailproxy.app.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mailproxy.config.Account;
import org.mailproxy.config.ListenAddress;
import org.mailproxy.config.LocalTls;
import org.mailproxy.config.UpstreamEndpoint;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.Schema;
import javax.xml.validation.SchemaFactory;
import javax.xml.validation.Validator;
import javax.xml.xpath.XPathFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Thunderbird autoconfiguration for the proxy's own endpoints: the XML validates against the config-v1.1 schema
 * and names exactly the proxy's ports and socket types; unknown addresses and domains are 404; a hostile Host
 * header is refused (wildcard listen) or ignored (fixed listen), never reflected.
 */
class AutoconfigTest {

    private static final Account ALICE = account("alice@example.com", "alice");
    private static final Account BOB = account("bob@example.org", "bob@example.org");
    private static final Account CAROL = account("carol@example.org", "carol");

    private final List<HttpListener> listeners = new ArrayList<>();

    @AfterEach
    void stop() {
        listeners.forEach(l -> l.drainAndClose(Duration.ZERO));
    }

    private static Account account(String email, String login) {
        return new Account(email, login, UpstreamEndpoint.parse("imaps://imap.provider.test", UpstreamEndpoint.Protocol.IMAP),
                UpstreamEndpoint.parse("smtps://smtp.provider.test", UpstreamEndpoint.Protocol.SMTP));
    }

    private int serve(List<Account> accounts, String listenHost, LocalTls.Mode mode) throws Exception {
        HttpListener l = new HttpListener(new ListenAddress("127.0.0.1", 0), List.of(new AutoconfigEndpoint(accounts,
                new AutoconfigEndpoint.Listener(listenHost, 1143), new AutoconfigEndpoint.Listener(listenHost, 1025), mode)));
        l.start();
        listeners.add(l);
        return l.boundAddress().getPort();
    }

    private record Answer(int status, String head, String body) {
    }

    /** A request written by hand, so that the Host header can be anything. */
    private static Answer request(int port, String method, String target, String... hostFields) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            StringBuilder req = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
            for (String h : hostFields) {
                req.append("Host: ").append(h).append("\r\n");
            }
            req.append("Connection: close\r\n\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int split = all.indexOf("\r\n\r\n");
            String head = all.substring(0, split);
            return new Answer(Integer.parseInt(head.substring(9, 12)), head, all.substring(split + 4));
        }
    }

    private static Answer get(int port, String target) throws Exception {
        return request(port, "GET", target, "127.0.0.1:" + port);
    }

    private static void validate(String xml) throws Exception {
        SchemaFactory sf = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        sf.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        sf.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        Schema schema = sf.newSchema(AutoconfigTest.class.getResource("config-v1.1.xsd"));
        Validator v = schema.newValidator();
        v.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        v.setProperty(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
        v.validate(new StreamSource(new StringReader(xml)));
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
    }

    private static String at(Document d, String xpath) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(xpath, d);
    }

    private static String count(Document d, String xpath) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate("count(" + xpath + ")", d);
    }

    private static Document valid(Answer a) throws Exception {
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.head()).containsIgnoringCase("Content-type: text/xml; charset=utf-8");
        validate(a.body());
        return parse(a.body());
    }

    @Test
    void starttlsNamesTheProxysPortsOnEveryPathThunderbirdAsks() throws Exception {
        int port = serve(List.of(ALICE, BOB), "127.0.0.1", LocalTls.Mode.STARTTLS);
        for (String target : List.of("/mail/config-v1.1.xml?emailaddress=alice%40example.com",
                "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=ALICE@example.com",
                "/v1.1/example.com")) {
            Document d = valid(get(port, target));
            assertThat(at(d, "/clientConfig/@version")).isEqualTo("1.1");
            assertThat(at(d, "/clientConfig/emailProvider/@id")).isEqualTo("example.com");
            assertThat(count(d, "//domain")).isEqualTo("2");
            assertThat(at(d, "//domain[1]")).isEqualTo("example.com");
            assertThat(at(d, "//domain[2]")).isEqualTo("example.org");
            assertThat(count(d, "//incomingServer")).isEqualTo("1");
            assertThat(at(d, "//incomingServer/@type")).isEqualTo("imap");
            assertThat(at(d, "//incomingServer/hostname")).isEqualTo("127.0.0.1");
            assertThat(at(d, "//incomingServer/port")).isEqualTo("1143");
            assertThat(at(d, "//incomingServer/socketType")).isEqualTo("STARTTLS");
            assertThat(at(d, "//incomingServer/username")).isEqualTo("alice");
            assertThat(at(d, "//incomingServer/authentication")).isEqualTo("password-cleartext");
            assertThat(count(d, "//outgoingServer")).isEqualTo("1");
            assertThat(at(d, "//outgoingServer/@type")).isEqualTo("smtp");
            assertThat(at(d, "//outgoingServer/hostname")).isEqualTo("127.0.0.1");
            assertThat(at(d, "//outgoingServer/port")).isEqualTo("1025");
            assertThat(at(d, "//outgoingServer/socketType")).isEqualTo("STARTTLS");
            assertThat(at(d, "//outgoingServer/username")).isEqualTo("alice");
        }
    }

    @Test
    void implicitTlsIsSslAndNoTlsIsPlain() throws Exception {
        int implicit = serve(List.of(ALICE), "localhost", LocalTls.Mode.IMPLICIT);
        Document d = valid(get(implicit, "/v1.1/example.com"));
        assertThat(at(d, "//incomingServer/socketType")).isEqualTo("SSL");
        assertThat(at(d, "//outgoingServer/socketType")).isEqualTo("SSL");
        assertThat(at(d, "//incomingServer/hostname")).isEqualTo("localhost");

        int off = serve(List.of(ALICE), "127.0.0.1", LocalTls.Mode.OFF);
        d = valid(get(off, "/v1.1/example.com"));
        assertThat(at(d, "//incomingServer/socketType")).isEqualTo("plain");
        assertThat(at(d, "//outgoingServer/socketType")).isEqualTo("plain");
    }

    @Test
    void aDomainWithSeveralAccountsLeavesTheUserNameToTheClientUnlessTheAddressIsGiven() throws Exception {
        int port = serve(List.of(ALICE, BOB, CAROL), "127.0.0.1", LocalTls.Mode.STARTTLS);
        Document d = valid(get(port, "/v1.1/example.org"));
        assertThat(at(d, "//incomingServer/username")).isEqualTo("%EMAILADDRESS%");
        assertThat(at(d, "/clientConfig/emailProvider/@id")).isEqualTo("example.org");
        assertThat(at(d, "//domain[1]")).isEqualTo("example.org");
        d = valid(get(port, "/mail/config-v1.1.xml?emailaddress=carol%40example.org"));
        assertThat(at(d, "//incomingServer/username")).isEqualTo("carol");
        assertThat(at(d, "//outgoingServer/username")).isEqualTo("carol");
    }

    @Test
    void unknownAddressesAndDomainsAre404AndAMissingAddressIs400() throws Exception {
        int port = serve(List.of(ALICE, BOB), "127.0.0.1", LocalTls.Mode.STARTTLS);
        assertThat(get(port, "/mail/config-v1.1.xml?emailaddress=eve%40example.com").status()).isEqualTo(404);
        assertThat(get(port, "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.net").status())
                .isEqualTo(404);
        assertThat(get(port, "/v1.1/example.net").status()).isEqualTo(404);
        assertThat(get(port, "/v1.1/").status()).isEqualTo(404);
        assertThat(get(port, "/v1.1/example.org?emailaddress=alice%40example.com").status()).isEqualTo(404);
        Answer hostile = get(port, "/mail/config-v1.1.xml?emailaddress=%3Cx%3E%40example.com");
        assertThat(hostile.status()).isEqualTo(404);
        assertThat(hostile.body()).doesNotContain("<x>");
        assertThat(get(port, "/mail/config-v1.1.xml").status()).isEqualTo(400);
        assertThat(get(port, "/mail/config-v1.1.xml?emailaddress=%zz").status()).isEqualTo(400);
        assertThat(request(port, "POST", "/v1.1/example.com", "127.0.0.1").status()).isEqualTo(405);
        assertThat(request(port, "HEAD", "/v1.1/example.com", "127.0.0.1").body()).isEmpty();
    }

    @Test
    void aWildcardListenNamesTheHostTheRequestUsedOnlyWhenItIsAValidName() throws Exception {
        int port = serve(List.of(ALICE), "0.0.0.0", LocalTls.Mode.STARTTLS);
        Document d = valid(request(port, "GET", "/v1.1/example.com", "Mail-Proxy.lan:9464"));
        assertThat(at(d, "//incomingServer/hostname")).isEqualTo("mail-proxy.lan");
        assertThat(at(d, "//outgoingServer/hostname")).isEqualTo("mail-proxy.lan");
        d = valid(request(port, "GET", "/v1.1/example.com", "192.168.1.20"));
        assertThat(at(d, "//incomingServer/hostname")).isEqualTo("192.168.1.20");
        d = valid(request(port, "GET", "/v1.1/example.com", "[fd00::1]:9464"));
        assertThat(at(d, "//incomingServer/hostname")).isEqualTo("fd00::1");

        for (String hostile : List.of("evil.test\"><script>x</script>", "evil.test/<x>", "a..b", "-evil.test",
                "evil_test", "[::1", "[evil]:1", "evil.test:99999", "evil.test:1:2", "x".repeat(300), "")) {
            Answer a = request(port, "GET", "/v1.1/example.com", hostile);
            assertThat(a.status()).as(hostile).isEqualTo(400);
            assertThat(a.body()).doesNotContain("evil").doesNotContain("<");
        }
        assertThat(request(port, "GET", "/v1.1/example.com", "a.test", "b.test").status())
                .as("two Host fields").isEqualTo(400);
        assertThat(request(port, "GET", "/v1.1/example.com").status()).as("no Host field").isEqualTo(400);
    }

    @Test
    void aFixedListenHostIgnoresTheHostHeader() throws Exception {
        int port = serve(List.of(ALICE), "127.0.0.1", LocalTls.Mode.STARTTLS);
        Answer a = request(port, "GET", "/v1.1/example.com", "evil.test\"><x>");
        assertThat(valid(a)).isNotNull();
        assertThat(a.body()).doesNotContain("evil");
    }

    @Test
    void theSchemaRejectsWhatTheFormatDoesNotAllow() {
        String good = "<clientConfig version=\"1.1\"><emailProvider id=\"example.com\"><domain>example.com</domain>"
                + "<incomingServer type=\"imap\"><hostname>h</hostname><port>1</port><socketType>SSL</socketType>"
                + "<username>u</username><authentication>password-cleartext</authentication></incomingServer>"
                + "</emailProvider></clientConfig>";
        org.assertj.core.api.Assertions.assertThatCode(() -> validate(good)).doesNotThrowAnyException();
        assertThatThrownBy(() -> validate(good.replace("SSL", "TLS"))).isInstanceOf(SAXException.class);
        assertThatThrownBy(() -> validate(good.replace("<port>1</port>", "<port>70000</port>"))).isInstanceOf(SAXException.class);
        assertThatThrownBy(() -> validate(good.replace("version=\"1.1\"", "version=\"1.0\""))).isInstanceOf(SAXException.class);
        assertThatThrownBy(() -> validate(good.replace("<domain>example.com</domain>", ""))).isInstanceOf(SAXException.class);
        assertThatThrownBy(() -> validate(good.replace("type=\"imap\"", "type=\"nntp\""))).isInstanceOf(SAXException.class);
        // The validator reads no external entity (XXE): the document is refused instead of resolved.
        assertThatThrownBy(() -> validate("<!DOCTYPE clientConfig [<!ENTITY e SYSTEM \"file:///etc/hostname\">]>"
                + good.replace("<username>u</username>", "<username>&e;</username>")))
                .isInstanceOf(SAXException.class).hasMessageContaining("file");
    }

    @Test
    void escapingCoversMarkupAndQuotes() {
        assertThat(AutoconfigEndpoint.escape("a&b<c>\"d'e\u0001")).isEqualTo("a&amp;b&lt;c&gt;&quot;d&apos;e?");
    }
}
