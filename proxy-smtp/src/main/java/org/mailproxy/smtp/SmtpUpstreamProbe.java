package org.mailproxy.smtp;

import io.netty.channel.EventLoop;
import org.mailproxy.config.Account;
import org.mailproxy.core.metrics.ProxyMetrics;
import org.mailproxy.core.net.ProbeResult;
import org.mailproxy.core.net.ProbeResult.Outcome;
import org.mailproxy.core.net.ProxyContext;
import org.mailproxy.core.net.UpstreamProbe;
import org.mailproxy.smtp.codec.SmtpReply;
import org.mailproxy.smtp.upstream.Capabilities;
import org.mailproxy.smtp.upstream.UpstreamConnector;
import org.mailproxy.smtp.upstream.UpstreamFailure;
import org.mailproxy.smtp.upstream.UpstreamLink;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code mailproxy check} for an account's SMTP side: connects the way a session does (same {@link UpstreamConnector},
 * so the same TLS rules), reads the capabilities after TLS, and with credentials tries AUTH PLAIN (RFC 4616):
 * 235 is OK, 535 is AUTH_FAILED. The password never becomes a String and is not logged.
 */
public final class SmtpUpstreamProbe implements UpstreamProbe {

    private final ProxyContext context;
    private final UpstreamConnector connector;

    public SmtpUpstreamProbe(ProxyContext context) {
        this.context = context;
        this.connector = new UpstreamConnector(context.upstreamTls(), context.loops().channelType(),
                context.config().smtp().upstreamConnectTimeout(), context.config().smtp().upstreamConnectTimeout(),
                ProxyMetrics.noop("smtp"));
    }

    @Override
    public CompletionStage<ProbeResult> probe(Account account, Optional<Credentials> credentials) {
        CompletableFuture<ProbeResult> result = new CompletableFuture<>();
        EventLoop loop = context.loops().workers().next();
        var connecting = connector.connect(loop, account.smtpUpstream());
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                UpstreamFailure failure = UpstreamFailure.classify(account.smtpUpstream(), f.cause());
                result.complete(new ProbeResult(failure.outcome(), failure.getMessage(), List.of()));
                return;
            }
            UpstreamLink link = connecting.getNow();
            List<String> caps = link.capabilities().lines();
            if (credentials.isEmpty()) {
                link.quit();
                result.complete(new ProbeResult(Outcome.OK, describe(account, link.capabilities()), caps));
                return;
            }
            link.listener(new UpstreamLink.Listener() {
                @Override
                public void upstreamReply(SmtpReply reply) {
                    link.quit();
                    if (reply.isPositiveCompletion()) {
                        result.complete(new ProbeResult(Outcome.OK, describe(account, link.capabilities()) + "; login accepted", caps));
                    } else if (reply.code() == 535 || reply.code() == 534) {
                        result.complete(new ProbeResult(Outcome.AUTH_FAILED, account.smtpUpstream().host()
                                + " refused the login (" + reply.summary() + ")", caps));
                    } else {
                        result.complete(new ProbeResult(Outcome.PROTOCOL_ERROR, account.smtpUpstream().host()
                                + " answered AUTH PLAIN with " + reply.summary(), caps));
                    }
                }

                @Override
                public void upstreamFailed(UpstreamFailure failure) {
                    result.complete(new ProbeResult(failure.outcome(), failure.getMessage(), caps));
                }
            });
            byte[] wire = authPlain(credentials.get());
            try {
                link.command(wire.clone());
            } finally {
                Arrays.fill(wire, (byte) 0);
            }
        });
        return result;
    }

    private static String describe(Account account, Capabilities caps) {
        return "SMTP " + account.smtpUpstream() + ": TLS verified, " + caps.lines().size() + " capabilities"
                + (caps.has("AUTH") ? "" : " (no AUTH offered)");
    }

    /** {@code AUTH PLAIN base64(\0login\0password)} with CRLF, built without a String holding the password. */
    static byte[] authPlain(Credentials c) {
        byte[] login = c.login().getBytes(StandardCharsets.UTF_8);
        ByteBuffer pw = StandardCharsets.UTF_8.encode(CharBuffer.wrap(c.password()));
        byte[] raw = new byte[login.length + pw.remaining() + 2];
        System.arraycopy(login, 0, raw, 1, login.length);
        pw.get(raw, login.length + 2, pw.remaining());
        Arrays.fill(pw.array(), (byte) 0);
        byte[] b64 = Base64.getEncoder().encode(raw);
        Arrays.fill(raw, (byte) 0);
        byte[] prefix = "AUTH PLAIN ".getBytes(StandardCharsets.US_ASCII);
        byte[] wire = new byte[prefix.length + b64.length + 2];
        System.arraycopy(prefix, 0, wire, 0, prefix.length);
        System.arraycopy(b64, 0, wire, prefix.length, b64.length);
        wire[wire.length - 2] = '\r';
        wire[wire.length - 1] = '\n';
        Arrays.fill(b64, (byte) 0);
        return wire;
    }
}
