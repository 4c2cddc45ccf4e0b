package org.mailproxy.app.setup;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.mailproxy.core.crypto.SelfSignedCertificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A loopback HTTPS server with a certificate made for the test, serving autoconfig documents by path. Requests are
 * recorded (path and query) so tests can check what was asked.
 */
public final class AutoconfigServer implements AutoCloseable {

    /** What to do for one path. */
    public interface Answer {
        void handle(HttpExchange exchange) throws IOException;
    }

    private final HttpsServer server;
    private final Path certificate;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    public final List<String> requests = new CopyOnWriteArrayList<>();

    private AutoconfigServer(HttpsServer server, Path certificate) {
        this.server = server;
        this.certificate = certificate;
    }

    public static AutoconfigServer start(Path dir) throws Exception {
        Path p12 = dir.resolve("autoconfig-server.p12");
        Path cert = dir.resolve("autoconfig-server.pem");
        char[] password = "test-store".toCharArray();
        SelfSignedCertificate.generateKeyStore(List.of("localhost", "127.0.0.1"), p12, password, cert);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "autoconfig-test-server");
            t.setDaemon(true);
            return t;
        }));
        AutoconfigServer s = new AutoconfigServer(server, cert);
        server.createContext("/", exchange -> {
            String query = exchange.getRequestURI().getRawQuery();
            s.requests.add(exchange.getRequestURI().getPath() + (query == null ? "" : "?" + query));
            Answer a = s.answers.get(exchange.getRequestURI().getPath());
            try {
                if (a == null) {
                    exchange.sendResponseHeaders(404, -1);
                } else {
                    a.handle(exchange);
                }
            } finally {
                exchange.close();
            }
        });
        server.start();
        return s;
    }

    /** Serves {@code body} with 200 at {@code path}. */
    public void serve(String path, String body) {
        answers.put(path, exchange -> {
            byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/xml");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
    }

    public void answer(String path, Answer answer) {
        answers.put(path, answer);
    }

    /** The base URL, {@code https://localhost:PORT}. */
    public String base() {
        return "https://localhost:" + server.getAddress().getPort();
    }

    /** The server's certificate (PEM), for a client that trusts it. */
    public Path certificate() {
        return certificate;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
