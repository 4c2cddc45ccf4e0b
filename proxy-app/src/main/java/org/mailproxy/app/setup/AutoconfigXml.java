package org.mailproxy.app.setup;

import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.Protocol;
import org.mailproxy.config.UpstreamEndpoint.TlsMode;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a Thunderbird autoconfig document ({@code config-v1.1.xml}, wiki.mozilla.org/Thunderbird:Autoconfiguration:
 * ConfigFileFormat) and picks the provider's IMAP and SMTP server.
 *
 * <p>The document comes from the network, so it is parsed defensively: at most {@link #MAX_BYTES} octets, and a
 * document with a DOCTYPE is refused outright, which rules out external entities (XXE) and entity expansion
 * ("billion laughs"); the config format has no DTD, so nothing legitimate is lost.
 *
 * <p>Choice: among the {@code incomingServer type="imap"} (and {@code outgoingServer type="smtp"}) elements, servers
 * that accept a password come first, then implicit TLS ({@code SSL}) before {@code STARTTLS} (RFC 8314 section 4),
 * then document order. A server with {@code socketType plain} is never chosen: mailproxy always speaks TLS upstream
 * (SECURITY.md 9). Servers with a bad host name or port are skipped. Each skipped server leaves a note.
 */
public final class AutoconfigXml {

    /** Largest document accepted; real ones are a few kilobytes. */
    public static final int MAX_BYTES = 128 * 1024;

    /** Authentication values meaning the server takes the account's password (as the proxy relays it). */
    private static final Set<String> PASSWORD_AUTH = Set.of("password-cleartext", "password-encrypted", "plain", "secure");

    private AutoconfigXml() {
    }

    /**
     * The servers of {@code xml} for {@code email}.
     *
     * @param source shown to the user as where the settings came from (the document's URL)
     * @throws AutoconfigException when the document is too large, not well-formed, has a DOCTYPE, or is not a
     *                             {@code clientConfig}
     */
    public static DiscoveryResult parse(byte[] xml, String email, String source) throws AutoconfigException {
        if (xml.length > MAX_BYTES) {
            throw new AutoconfigException(source + ": larger than " + MAX_BYTES + " octets");
        }
        Document doc = document(xml, source);
        Element root = doc.getDocumentElement();
        if (!"clientConfig".equals(root.getTagName())) {
            throw new AutoconfigException(source + ": not an autoconfig document (root element "
                    + root.getTagName() + ")");
        }
        List<String> notes = new ArrayList<>();
        Optional<DiscoveredServer> imap = choose(root, "incomingServer", "imap", Protocol.IMAP, email, source, notes);
        Optional<DiscoveredServer> smtp = choose(root, "outgoingServer", "smtp", Protocol.SMTP, email, source, notes);
        return new DiscoveryResult(imap, smtp, notes);
    }

    private static Document document(byte[] xml, String source) throws AutoconfigException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://xml.org/sax/features/external-general-entities", false);
            f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
            f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            f.setNamespaceAware(false);
            DocumentBuilder b = f.newDocumentBuilder();
            // The default handler prints "[Fatal Error]" to stderr; the exception says it all.
            b.setErrorHandler(new ErrorHandler() {
                @Override
                public void warning(SAXParseException e) {
                }

                @Override
                public void error(SAXParseException e) throws SAXException {
                    throw e;
                }

                @Override
                public void fatalError(SAXParseException e) throws SAXException {
                    throw e;
                }
            });
            b.setEntityResolver((publicId, systemId) -> {
                throw new SAXException("external entity " + systemId + " refused");
            });
            return b.parse(new ByteArrayInputStream(xml));
        } catch (SAXException e) {
            String why = e.getMessage() != null && e.getMessage().contains("DOCTYPE")
                    ? "has a DOCTYPE, which autoconfig documents never need (refused: external entities)"
                    : "not well-formed XML (" + e.getMessage() + ")";
            throw new AutoconfigException(source + ": " + why, e);
        } catch (ParserConfigurationException | IOException e) {
            throw new AutoconfigException(source + ": cannot parse: " + e.getMessage(), e);
        }
    }

    private record Candidate(DiscoveredServer server, boolean password, int order) {
    }

    private static Optional<DiscoveredServer> choose(Element root, String tag, String type, Protocol protocol,
                                                     String email, String source, List<String> notes) {
        NodeList nodes = root.getElementsByTagName(tag);
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            Element server = (Element) nodes.item(i);
            if (!type.equalsIgnoreCase(server.getAttribute("type"))) {
                continue;
            }
            String what = type.toUpperCase(Locale.ROOT) + " server " + (i + 1) + " of " + source;
            String hostText = substitute(text(server, "hostname"), email);
            Optional<String> host = MailDomains.hostname(hostText);
            if (host.isEmpty()) {
                notes.add(what + ": skipped, \"" + printable(hostText) + "\" is not a host name");
                continue;
            }
            String socket = text(server, "socketType").toUpperCase(Locale.ROOT);
            TlsMode tls = switch (socket) {
                case "SSL", "TLS" -> TlsMode.IMPLICIT;
                case "STARTTLS" -> TlsMode.STARTTLS;
                default -> null;
            };
            if (tls == null) {
                notes.add(what + " (" + host.get() + "): refused, it offers no TLS (socketType \""
                        + printable(socket) + "\"); mailproxy only talks to providers over TLS");
                continue;
            }
            int port;
            try {
                port = Integer.parseInt(text(server, "port"));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                notes.add(what + " (" + host.get() + "): skipped, bad port \"" + printable(text(server, "port")) + "\"");
                continue;
            }
            String user = substitute(text(server, "username"), email);
            boolean password = acceptsPassword(server);
            candidates.add(new Candidate(new DiscoveredServer(new UpstreamEndpoint(protocol, tls, host.get(), port),
                    user.isEmpty() ? Optional.empty() : Optional.of(user), source), password, i));
        }
        return candidates.stream()
                .sorted(Comparator.comparing((Candidate c) -> !c.password())
                        .thenComparing(c -> c.server().endpoint().tls() != TlsMode.IMPLICIT)
                        .thenComparingInt(Candidate::order))
                .map(Candidate::server)
                .findFirst();
    }

    private static boolean acceptsPassword(Element server) {
        NodeList auth = server.getElementsByTagName("authentication");
        if (auth.getLength() == 0) {
            return true;
        }
        for (int i = 0; i < auth.getLength(); i++) {
            if (PASSWORD_AUTH.contains(auth.item(i).getTextContent().trim().toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    /** The trimmed text of the first direct child element named {@code name}, or "". */
    private static String text(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().trim();
            }
        }
        return "";
    }

    /** The placeholders of the format's username and hostname fields. */
    static String substitute(String template, String email) {
        int at = email.lastIndexOf('@');
        return template.replace("%EMAILADDRESS%", email)
                .replace("%EMAILLOCALPART%", at < 0 ? email : email.substring(0, at))
                .replace("%EMAILDOMAIN%", at < 0 ? "" : email.substring(at + 1));
    }

    /** A value from the document as it may be shown: control characters out, at most 80 characters. */
    static String printable(String s) {
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() > 80 ? t.substring(0, 80) + "..." : t;
    }
}
