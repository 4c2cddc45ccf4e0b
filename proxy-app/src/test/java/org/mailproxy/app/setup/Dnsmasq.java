package org.mailproxy.app.setup;

import org.junit.jupiter.api.Assumptions;

import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.directory.InitialDirContext;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * A real DNS server for the SRV tests: Debian's dnsmasq on a loopback port, serving only the records given
 * ({@code --srv-host}), authoritative for the {@code test} domain so that other names get NXDOMAIN. Tests are
 * skipped with the reason when dnsmasq is not installed (scripts/test installs it).
 */
public final class Dnsmasq implements AutoCloseable {

    private static final Path BINARY = Path.of("/usr/sbin/dnsmasq");

    private final Process process;
    private final int port;

    private Dnsmasq(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts dnsmasq with these {@code --srv-host} values ({@code _service._tcp.domain,target,port,prio,weight}). */
    public static Dnsmasq start(Path logFile, String... srvHosts) throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(BINARY), "dnsmasq is not installed (apt-get install dnsmasq)");
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString(), "--keep-in-foreground", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
                "--port=" + port, "--pid-file=", "--local=/test/", "--log-facility=-"));
        for (String s : srvHosts) {
            cmd.add("--srv-host=" + s);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        Dnsmasq d = new Dnsmasq(p, port);
        try {
            // Ready once it answers (NXDOMAIN for a name it does not know).
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!p.isAlive()) {
                    throw new IllegalStateException("dnsmasq exited: " + Files.readString(logFile));
                }
                return d.answers();
            });
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    private boolean answers() {
        Hashtable<String, String> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.dns.DnsContextFactory");
        env.put(Context.PROVIDER_URL, "dns://" + server());
        env.put("com.sun.jndi.dns.timeout.initial", "200");
        env.put("com.sun.jndi.dns.timeout.retries", "1");
        try {
            new InitialDirContext(env).getAttributes("ready.probe.test.", new String[]{"A"});
            return true;
        } catch (NameNotFoundException e) {
            return true;
        } catch (NamingException e) {
            return false;
        }
    }

    /** The server as {@link SrvDiscovery} takes it. */
    public String server() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
