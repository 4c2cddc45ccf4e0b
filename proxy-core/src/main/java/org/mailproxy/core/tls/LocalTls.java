package org.mailproxy.core.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import org.mailproxy.config.LocalTls.Mode;
import org.mailproxy.core.crypto.SelfSignedCertificate;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * TLS towards local clients: off, STARTTLS or implicit, with the user's certificate or one the proxy generates once
 * into {@code data-dir/tls} (the user trusts it once in the client; see the README).
 */
public final class LocalTls {

    private final Mode mode;
    private final SslContext context;
    private final Path certificateFile;

    private LocalTls(Mode mode, SslContext context, Path certificateFile) {
        this.mode = mode;
        this.context = context;
        this.certificateFile = certificateFile;
    }

    public static LocalTls off() {
        return new LocalTls(Mode.OFF, null, null);
    }

    public static LocalTls create(org.mailproxy.config.LocalTls settings, Path dataDir) {
        if (settings.mode() == Mode.OFF) {
            return off();
        }
        try {
            Path cert;
            Path key;
            if (settings.certFile().isPresent() && settings.keyFile().isPresent()) {
                cert = settings.certFile().get();
                key = settings.keyFile().get();
            } else {
                Path dir = dataDir.resolve("tls");
                cert = dir.resolve("local-cert.pem");
                key = dir.resolve("local-key.pem");
                if (!Files.exists(cert) || !Files.exists(key)) {
                    SelfSignedCertificate.generate(settings.hostnames(), cert, key);
                }
            }
            SslContext ctx = SslContextBuilder.forServer(cert.toFile(), key.toFile())
                    .sslProvider(SslProvider.JDK)
                    .protocols(UpstreamTls.PROTOCOLS)
                    .build();
            return new LocalTls(settings.mode(), ctx, cert);
        } catch (SSLException e) {
            throw new IllegalStateException("cannot load the local TLS certificate: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the local TLS certificate: " + e.getMessage(), e);
        }
    }

    public Mode mode() {
        return mode;
    }

    public boolean offersStartTls() {
        return mode == Mode.STARTTLS;
    }

    public boolean isImplicit() {
        return mode == Mode.IMPLICIT;
    }

    public Optional<Path> certificateFile() {
        return Optional.ofNullable(certificateFile);
    }

    public SslHandler newHandler(ByteBufAllocator alloc) {
        if (context == null) {
            throw new IllegalStateException("local TLS is off");
        }
        return context.newHandler(alloc);
    }

    static List<String> protocols() {
        return List.of(UpstreamTls.PROTOCOLS);
    }
}
