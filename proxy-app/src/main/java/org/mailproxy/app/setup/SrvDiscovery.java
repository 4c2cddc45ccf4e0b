package org.mailproxy.app.setup;

import org.mailproxy.config.UpstreamEndpoint;
import org.mailproxy.config.UpstreamEndpoint.Protocol;
import org.mailproxy.config.UpstreamEndpoint.TlsMode;

import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.DirContext;
import javax.naming.directory.InitialDirContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds a domain's IMAP and SMTP submission servers from DNS SRV records (RFC 6186, with RFC 8314's implicit-TLS
 * services), through the JDK's JNDI DNS provider.
 *
 * <p>IMAP: {@code _imaps._tcp.<domain>} (implicit TLS) is asked first and {@code _imap._tcp.<domain>} (then STARTTLS,
 * which mailproxy makes mandatory) only when it names no server: RFC 8314 section 5.1 prefers implicit TLS. SMTP
 * likewise: {@code _submissions._tcp} before {@code _submission._tcp}. Within one service the record with the lowest
 * priority wins, and among equal priorities the highest weight (RFC 2782; one server is written into the
 * configuration, so the weighted random pick RFC 2782 describes for spreading connections becomes "the one the
 * domain sends most clients to"). A target of "." says the service is not offered (RFC 2782, RFC 6186 section 3.4);
 * records with port 0 or a malformed target are skipped with a note.
 *
 * <p>Plain DNS answers are not authenticated (no DNSSEC validation here), so these are suggestions for the person
 * running {@code mailproxy init} to confirm; see {@link ProviderDiscovery} for how they combine with autoconfig.
 */
public final class SrvDiscovery {

    private final String dnsServer;
    private final Duration timeout;

    /**
     * @param dnsServer {@code host:port} of the DNS server to ask ({@code [v6]:port} for IPv6), or {@code null} for
     *                  the system's resolvers
     * @param timeout   how long to wait for one answer before the provider retries once (waiting twice as long);
     *                  a server that does not answer one query is not asked the others
     */
    public SrvDiscovery(String dnsServer, Duration timeout) {
        this.dnsServer = dnsServer;
        this.timeout = timeout;
    }

    /** Set when the DNS server did not answer; the remaining queries of this discovery are skipped. */
    private boolean silent;

    public synchronized DiscoveryResult discover(String email) {
        silent = false;
        List<String> notes = new ArrayList<>();
        Optional<String> domain = MailDomains.domainOf(email);
        if (domain.isEmpty()) {
            notes.add("DNS SRV: \"" + AutoconfigXml.printable(email) + "\" has no usable domain");
            return DiscoveryResult.empty(notes);
        }
        DirContext ctx;
        try {
            ctx = context();
        } catch (NamingException e) {
            notes.add("DNS SRV: cannot use DNS: " + e.getMessage());
            return DiscoveryResult.empty(notes);
        }
        try {
            Optional<DiscoveredServer> imap = first(ctx, domain.get(), Protocol.IMAP, notes,
                    new String[]{"_imaps._tcp.", "_imap._tcp."});
            Optional<DiscoveredServer> smtp = first(ctx, domain.get(), Protocol.SMTP, notes,
                    new String[]{"_submissions._tcp.", "_submission._tcp."});
            return new DiscoveryResult(imap, smtp, notes);
        } finally {
            try {
                ctx.close();
            } catch (NamingException ignored) {
                // nothing held open that matters
            }
        }
    }

    private DirContext context() throws NamingException {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        if (dnsServer != null) {
            env.put(Context.PROVIDER_URL, "dns://" + dnsServer);
        }
        env.put("com.sun.jndi.dns.timeout.initial", Long.toString(Math.max(100, timeout.toMillis())));
        env.put("com.sun.jndi.dns.timeout.retries", "1");
        return new InitialDirContext(env);
    }

    private Optional<DiscoveredServer> first(DirContext ctx, String domain, Protocol protocol, List<String> notes,
                                             String[] services) {
        for (int i = 0; i < services.length && !silent; i++) {
            TlsMode tls = i == 0 ? TlsMode.IMPLICIT : TlsMode.STARTTLS;
            String name = services[i] + domain;
            Optional<DiscoveredServer> found = lookup(ctx, name, protocol, tls, notes);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /** A parsed SRV record (RFC 2782: priority weight port target). */
    record Srv(int priority, int weight, int port, String target) {
    }

    private Optional<DiscoveredServer> lookup(DirContext ctx, String name, Protocol protocol, TlsMode tls,
                                              List<String> notes) {
        List<String> values = new ArrayList<>();
        try {
            Attributes attrs = ctx.getAttributes(name + ".", new String[]{"SRV"});
            Attribute srv = attrs.get("SRV");
            if (srv == null) {
                return Optional.empty();
            }
            NamingEnumeration<?> all = srv.getAll();
            while (all.hasMore()) {
                values.add(String.valueOf(all.next()));
            }
        } catch (NameNotFoundException e) {
            return Optional.empty();
        } catch (NamingException e) {
            notes.add("DNS SRV " + name + ": " + describe(e));
            silent |= e instanceof javax.naming.CommunicationException;
            return Optional.empty();
        }
        List<Srv> records = new ArrayList<>();
        for (String v : values) {
            parse(v, name, notes).ifPresent(records::add);
        }
        records.sort(Comparator.comparingInt(Srv::priority).thenComparing(Comparator.comparingInt(Srv::weight).reversed()));
        if (records.isEmpty()) {
            return Optional.empty();
        }
        Srv best = records.get(0);
        if (best.target().equals(".")) {
            notes.add("DNS SRV " + name + ": the domain says this service is not offered (target \".\")");
            return Optional.empty();
        }
        return Optional.of(new DiscoveredServer(new UpstreamEndpoint(protocol, tls, best.target(), best.port()),
                Optional.empty(), "DNS SRV " + name));
    }

    /** One SRV record's text as JNDI gives it ("10 5 993 imap.example.com."), or empty (with a note) when bad. */
    static Optional<Srv> parse(String value, String name, List<String> notes) {
        String[] f = value.trim().split("\\s+");
        if (f.length != 4) {
            notes.add("DNS SRV " + name + ": malformed record \"" + AutoconfigXml.printable(value) + "\"");
            return Optional.empty();
        }
        int priority;
        int weight;
        int port;
        try {
            priority = Integer.parseInt(f[0]);
            weight = Integer.parseInt(f[1]);
            port = Integer.parseInt(f[2]);
        } catch (NumberFormatException e) {
            notes.add("DNS SRV " + name + ": malformed record \"" + AutoconfigXml.printable(value) + "\"");
            return Optional.empty();
        }
        if (f[3].equals(".")) {
            return Optional.of(new Srv(priority, weight, 0, "."));
        }
        Optional<String> target = MailDomains.hostname(f[3]);
        if (target.isEmpty()) {
            notes.add("DNS SRV " + name + ": skipped, \"" + AutoconfigXml.printable(f[3]) + "\" is not a host name");
            return Optional.empty();
        }
        if (port < 1 || port > 65535) {
            notes.add("DNS SRV " + name + ": skipped " + target.get() + ", bad port " + port);
            return Optional.empty();
        }
        return Optional.of(new Srv(priority, weight, port, target.get()));
    }

    private static String describe(NamingException e) {
        String m = e.getExplanation() != null ? e.getExplanation() : e.getClass().getSimpleName();
        return e instanceof javax.naming.CommunicationException ? "no answer from the DNS server (" + m + ")"
                : m.toLowerCase(Locale.ROOT);
    }
}
