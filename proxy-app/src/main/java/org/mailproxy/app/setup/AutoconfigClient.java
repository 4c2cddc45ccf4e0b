package org.mailproxy.app.setup;

import javax.net.ssl.SSLContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Fetches a domain's Thunderbird autoconfig document and reads it with {@link AutoconfigXml}.
 *
 * <p>The URLs are tried in order and the first document that names a server wins. By default only HTTPS is used:
 * {@code https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>}, then
 * {@code https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml}. HTTPS is what makes the answer the domain
 * owner's: the settings decide where the user's password goes, and over plain HTTP anyone on the path (a café's
 * Wi-Fi, a hostile resolver) could name their own server. Thunderbird also tries plain HTTP; mailproxy does so
 * only when asked ({@link #defaults(boolean)} with {@code true}), after both HTTPS URLs.
 *
 * <p>Redirects are followed except from HTTPS to HTTP; each request has a connect and a total timeout and the body
 * is read to at most {@link AutoconfigXml#MAX_BYTES} octets.
 */
public final class AutoconfigClient {

    /** The URL templates: {@code {domain}} and {@code {email}} (URL-encoded) are filled in. */
    public static final List<String> HTTPS_TEMPLATES = List.of(
            "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}",
            "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml");

    public static final String HTTP_TEMPLATE = "http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={email}";

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private final List<String> templates;
    private final HttpClient http;
    private final Duration timeout;

    /**
     * @param templates  the URLs to try, in order (tests pass loopback ones)
     * @param sslContext the TLS client context, {@code null} for the JDK's default (the system's CAs)
     * @param timeout    how long one request may take in all
     */
    public AutoconfigClient(List<String> templates, SSLContext sslContext, Duration timeout) {
        this.templates = List.copyOf(templates);
        this.timeout = Objects.requireNonNull(timeout);
        HttpClient.Builder b = HttpClient.newBuilder()
                .connectTimeout(CONNECT_TIMEOUT.compareTo(timeout) < 0 ? CONNECT_TIMEOUT : timeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .proxy(HttpClient.Builder.NO_PROXY);
        if (sslContext != null) {
            b.sslContext(sslContext);
        }
        this.http = b.build();
    }

    /** The default URLs (HTTPS only unless {@code allowHttp}), with the system's CAs and a 10-second timeout. */
    public static AutoconfigClient defaults(boolean allowHttp) {
        List<String> t = new ArrayList<>(HTTPS_TEMPLATES);
        if (allowHttp) {
            t.add(HTTP_TEMPLATE);
        }
        return new AutoconfigClient(t, null, Duration.ofSeconds(10));
    }

    List<String> templates() {
        return templates;
    }

    /** The first usable answer for {@code email}; failures of each URL become notes. */
    public DiscoveryResult discover(String email) {
        List<String> notes = new ArrayList<>();
        String domain = MailDomains.domainOf(email).orElse(null);
        if (domain == null) {
            notes.add("autoconfig: \"" + AutoconfigXml.printable(email) + "\" has no usable domain");
            return DiscoveryResult.empty(notes);
        }
        for (String template : templates) {
            URI uri = URI.create(template.replace("{domain}", domain)
                    .replace("{email}", URLEncoder.encode(email, StandardCharsets.UTF_8)));
            try {
                DiscoveryResult r = AutoconfigXml.parse(fetch(uri), email, uri.toString());
                notes.addAll(r.notes());
                if (r.imap().isPresent() || r.smtp().isPresent()) {
                    return new DiscoveryResult(r.imap(), r.smtp(), notes);
                }
                notes.add(uri + ": no IMAP or SMTP server mailproxy can use");
            } catch (AutoconfigException e) {
                notes.add(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                notes.add(uri + ": interrupted");
                break;
            }
        }
        return DiscoveryResult.empty(notes);
    }

    private byte[] fetch(URI uri) throws AutoconfigException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).GET()
                .header("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1").build();
        // The request timeout covers only the wait for the headers; the deadline on the future also covers a body
        // that trickles in. The body subscriber stops reading past the size cap.
        CompletableFuture<HttpResponse<byte[]>> future = http.sendAsync(req, info -> info.statusCode() == 200
                ? new CappedBody(AutoconfigXml.MAX_BYTES)
                : HttpResponse.BodySubscribers.replacing(new byte[0]));
        HttpResponse<byte[]> resp;
        try {
            resp = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new AutoconfigException(uri + ": no answer within " + timeout.toSeconds() + "s", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof CappedBody.TooLarge) {
                throw new AutoconfigException(uri + ": larger than " + AutoconfigXml.MAX_BYTES + " octets", cause);
            }
            throw new AutoconfigException(uri + ": " + describe(cause), cause);
        }
        if (resp.statusCode() != 200) {
            throw new AutoconfigException(uri + ": HTTP " + resp.statusCode());
        }
        return resp.body();
    }

    /** Collects a body of at most {@code max} octets; a longer one is cancelled and fails with {@link TooLarge}. */
    private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {

        static final class TooLarge extends IOException {
            TooLarge() {
                super("body too large");
            }
        }

        private final int max;
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private Flow.Subscription subscription;

        CappedBody(int max) {
            this.max = max;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(1);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (buffer.size() + b.remaining() > max) {
                    subscription.cancel();
                    result.completeExceptionally(new TooLarge());
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                buffer.writeBytes(chunk);
            }
            subscription.request(1);
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(buffer.toByteArray());
        }
    }

    private static String describe(Throwable e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer in time";
        }
        if (e instanceof java.net.ConnectException) {
            return "connection refused";
        }
        if (e instanceof javax.net.ssl.SSLHandshakeException) {
            return "TLS handshake failed (certificate not trusted?)";
        }
        if (e instanceof java.net.UnknownHostException || e.getCause() instanceof java.net.UnknownHostException) {
            return "no such host";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
