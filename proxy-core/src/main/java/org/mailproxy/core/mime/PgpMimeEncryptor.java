package org.mailproxy.core.mime;

import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Wraps one message into PGP/MIME (RFC 3156 §4) while it streams, for the SMTP side:
 * <pre>
 *   outer header (Subject replaced by "[...]")
 *   multipart/encrypted; protocol="application/pgp-encrypted"
 *     application/pgp-encrypted      "Version: 1"
 *     application/octet-stream       armored OpenPGP message of the inner entity
 * </pre>
 * The inner entity is the original Content-* fields plus, with header protection, every other original field and
 * one {@code HP-Outer} field per outer field (RFC 9788 §2.2, "hcp_baseline"); its Content-Type carries
 * {@code hp="cipher"} and, for clients that only know the older scheme, {@code protected-headers="v1"}.
 * The caller writes the original body into the returned stream; closing it finishes the structure. Memory is flat.
 */
public final class PgpMimeEncryptor {
    /** Outer Subject under RFC 9788 §2.2 hcp_baseline. */
    public static final String OBSCURED_SUBJECT = "[...]";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> REMOVED_FROM_OUTER = Set.of("comments", "keywords", "bcc");

    /** Encryption choices. */
    /**
     * @param protectHeaders  write RFC 9788 header protection (with protected-headers v1 compatibility)
     * @param obscuredSubject the outer Subject when headers are protected
     * @param extraOuter      generated fields for the outer header only (e.g. {@code Autocrypt:})
     */
    public record Options(boolean protectHeaders, String obscuredSubject, List<HeaderField> extraOuter) {
        public static final Options DEFAULTS = new Options(true);

        public Options {
            extraOuter = List.copyOf(extraOuter);
        }

        public Options(boolean protectHeaders) {
            this(protectHeaders, OBSCURED_SUBJECT, List.of());
        }
    }

    private final Encryptor encryptor;

    public PgpMimeEncryptor(Encryptor encryptor) {
        this.encryptor = encryptor;
    }

    /**
     * @param wireOut               receives the whole PGP/MIME message (header and body); not closed
     * @param headersOfOriginal     the original message's header fields
     * @param recipientFingerprints every recipient, the sender included
     * @param signer                the sender's unlocked key, or null to send unsigned
     */
    public OutputStream open(OutputStream wireOut, List<HeaderField> headersOfOriginal,
                             List<String> recipientFingerprints, UnlockedKey signer, Options options)
            throws IOException, KeyException {
        List<HeaderField> content = new ArrayList<>();
        List<HeaderField> other = new ArrayList<>();
        for (HeaderField f : headersOfOriginal) {
            if (f.is("MIME-Version")) {
                continue;
            }
            (f.lowerName().startsWith("content-") ? content : other).add(f);
        }
        List<HeaderField> outer = new ArrayList<>();
        for (HeaderField f : other) {
            if (!options.protectHeaders()) {
                outer.add(f);
            } else if (f.is("Subject")) {
                outer.add(HeaderField.of("Subject", options.obscuredSubject()));
            } else if (!REMOVED_FROM_OUTER.contains(f.lowerName())) {
                outer.add(f);
            }
        }
        String boundary = "----=_mailproxy_" + HexFormat.of().formatHex(randomBytes(12));
        StringBuilder head = new StringBuilder();
        for (HeaderField f : outer) {
            head.append(f.toWire());
        }
        for (HeaderField f : options.extraOuter()) {
            head.append(f.toWire());
        }
        head.append("MIME-Version: 1.0\r\n");
        head.append("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n")
                .append(" boundary=\"").append(boundary).append("\"\r\n\r\n");
        head.append("This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n");
        head.append("--").append(boundary).append("\r\n");
        head.append("Content-Type: application/pgp-encrypted\r\n");
        head.append("Content-Description: PGP/MIME version identification\r\n\r\n");
        head.append("Version: 1\r\n\r\n");
        head.append("--").append(boundary).append("\r\n");
        head.append("Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n");
        head.append("Content-Description: OpenPGP encrypted message\r\n");
        head.append("Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n");
        wireOut.write(head.toString().getBytes(StandardCharsets.UTF_8));

        CrlfOutputStream armorCrlf = new CrlfOutputStream(wireOut);
        OutputStream plain = encryptor.open(armorCrlf, recipientFingerprints, signer, true);

        StringBuilder inner = new StringBuilder();
        boolean hasType = false;
        for (HeaderField f : content) {
            if (f.is("Content-Type")) {
                hasType = true;
                inner.append(options.protectHeaders() ? markProtected(f).toWire() : f.toWire());
            } else {
                inner.append(f.toWire());
            }
        }
        if (!hasType) {
            HeaderField def = new HeaderField("Content-Type", " text/plain; charset=us-ascii");
            inner.append(options.protectHeaders() ? markProtected(def).toWire() : def.toWire());
        }
        if (options.protectHeaders()) {
            for (HeaderField f : other) {
                inner.append(f.toWire());
            }
            for (HeaderField f : outer) {
                inner.append("HP-Outer: ").append(f.name()).append(':').append(f.value()).append("\r\n");
            }
        }
        inner.append("\r\n");
        plain.write(inner.toString().getBytes(StandardCharsets.UTF_8));

        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                plain.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                plain.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                plain.close();
                armorCrlf.flush();
                wireOut.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
                wireOut.flush();
            }
        };
    }

    private static HeaderField markProtected(HeaderField contentType) {
        String v = contentType.value().stripTrailing();
        return new HeaderField(contentType.name(), v + ";\r\n hp=\"cipher\"; protected-headers=\"v1\"");
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
