package org.mailproxy.core.mime;

import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RecursionMode;
import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.crypto.openpgp.DecryptionResult;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.SignatureResult;
import org.mailproxy.core.crypto.openpgp.spool.Spool;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;

import java.util.Optional;
import java.util.Set;

/**
 * Turns an incoming message into the message a client should see, for the IMAP side. Decrypts only when the
 * encrypted part is the whole message (SECURITY.md 4, EFAIL direct exfiltration):
 * <ul>
 * <li>PGP/MIME: {@code multipart/encrypted; protocol="application/pgp-encrypted"} at the root with exactly the two
 *     parts of RFC 3156 §4;</li>
 * <li>inline PGP: a root {@code text/plain} body that is one armored {@code PGP MESSAGE} block and nothing else.</li>
 * </ul>
 * Anything else passes through ({@link DecryptedMessage.Kind#NOT_ENCRYPTED}), and an encrypted part next to others
 * is flagged {@link DecryptedMessage.Kind#PARTIALLY_ENCRYPTED} so the caller can warn.
 *
 * <p>The replacement message: with header protection (RFC 9788 {@code hp="cipher"}, or Thunderbird's
 * {@code protected-headers="v1"}) the inner header fields win and outer fields the inner section lacks (Received,
 * DKIM...) are kept; {@code HP-Outer} fields are dropped. Without it, the outer non-Content fields are kept and the
 * inner Content fields describe the body. The inner body (an inner {@code multipart/signed} included) is copied
 * byte for byte. Any incoming {@value #STATUS_HEADER} field is removed before ours is added (SECURITY.md 8); it
 * claims a signature only when a valid signature covers the whole decrypted entity and the signer's user ID carries
 * the From address.
 */
public final class PgpMimeDecryptor {
    /** The proxy's own status field. */
    public static final String STATUS_HEADER = "X-Mailproxy-Status";

    private static final int MAX_HEADER_BYTES = 256 << 10;
    private static final int MAX_HEADER_FIELDS = 1000;
    private static final int SCAN_BYTES = 64 << 10;

    private final Decryptor decryptor;
    private final DetachedVerifier verifier;
    private final OpenPgpLimits limits;
    private final Path spoolDir;

    public PgpMimeDecryptor(Decryptor decryptor, OpenPgpLimits limits, Path spoolDir) {
        this(decryptor, null, limits, spoolDir);
    }

    /** With {@code verifier}, an inner {@code multipart/signed} is verified as well. */
    public PgpMimeDecryptor(Decryptor decryptor, DetachedVerifier verifier, OpenPgpLimits limits, Path spoolDir) {
        this.decryptor = decryptor;
        this.verifier = verifier;
        this.limits = limits;
        this.spoolDir = spoolDir;
    }

    /** Bounds for mime4j (SECURITY.md 21). */
    static MimeConfig mimeConfig() {
        return new MimeConfig.Builder()
                .setMaxLineLen(-1) // bodies may be long-lined 8bit; header lines are capped below
                .setMaxHeaderCount(MAX_HEADER_FIELDS)
                .setMaxHeaderLen(64 << 10)
                .setMaxContentLen(-1)
                .setStrictParsing(false)
                .build();
    }

    public DecryptedMessage decrypt(InputStream message) throws DecryptionFailedException, IOException {
        MimeTokenStream ts = new MimeTokenStream(mimeConfig());
        ts.setRecursionMode(RecursionMode.M_NO_RECURSE);
        ts.parse(message);
        try {
            List<HeaderField> root = new ArrayList<>();
            EntityState s;
            while ((s = ts.next()) != EntityState.T_END_HEADER) {
                if (s == EntityState.T_FIELD) {
                    root.add(toField(ts.getField()));
                } else if (s == EntityState.T_END_OF_STREAM) {
                    return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_ENCRYPTED,
                            DecryptedMessage.Format.NONE, null);
                }
            }
            Optional<HeaderField> ct = Headers.first(root, "Content-Type");
            String type = Headers.mediaType(ct);
            if (type.equals("multipart/encrypted")) {
                return pgpMime(ts, root, ct);
            }
            if (type.equals("text/plain")) {
                while ((s = ts.next()) != EntityState.T_BODY) {
                    if (s == EntityState.T_END_OF_STREAM) {
                        return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_ENCRYPTED,
                                DecryptedMessage.Format.NONE, null);
                    }
                }
                return inline(ts.getDecodedInputStream(), root, ct);
            }
            if (type.startsWith("multipart/")) {
                return scanForPartialEncryption(ts);
            }
            return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_ENCRYPTED, DecryptedMessage.Format.NONE,
                    null);
        } catch (MimeException e) {
            throw new IOException("malformed MIME structure", e);
        }
    }

    // ------------------------------------------------------------------ PGP/MIME

    private DecryptedMessage pgpMime(MimeTokenStream ts, List<HeaderField> root, Optional<HeaderField> ct)
            throws IOException, MimeException, DecryptionFailedException {
        if (!Headers.parameter(ct, "protocol").map(p -> p.equalsIgnoreCase("application/pgp-encrypted"))
                .orElse(false)) {
            return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_ENCRYPTED, DecryptedMessage.Format.NONE,
                    null);
        }
        int depth = 0;
        int part = 0;
        List<HeaderField> partFields = new ArrayList<>();
        DecryptionResult result = null;
        boolean malformed = false;
        try {
            EntityState s;
            while ((s = ts.next()) != EntityState.T_END_OF_STREAM) {
                switch (s) {
                    case T_START_MULTIPART -> depth++;
                    case T_END_MULTIPART -> depth--;
                    case T_START_BODYPART -> {
                        if (depth == 1) {
                            part++;
                            partFields.clear();
                        } else {
                            malformed = true;
                        }
                    }
                    case T_FIELD -> partFields.add(toField(ts.getField()));
                    case T_BODY -> {
                        String partType = Headers.mediaType(Headers.first(partFields, "Content-Type"));
                        if (depth != 1 || part > 2) {
                            malformed = true;
                        } else if (part == 1) {
                            malformed |= !partType.equals("application/pgp-encrypted");
                        } else if (part == 2 && partType.equals("application/octet-stream") && !malformed) {
                            result = decryptor.decrypt(ts.getDecodedInputStream());
                        } else {
                            malformed = true;
                        }
                    }
                    default -> {
                        // preamble, epilogue and the like carry nothing for us
                    }
                }
            }
            if (malformed || part != 2 || result == null) {
                throw new DecryptionFailedException("pgp-mime-structure");
            }
        } catch (DecryptionFailedException | IOException | MimeException | RuntimeException e) {
            if (result != null) {
                result.close();
            }
            throw e;
        }
        if (!result.forUs()) {
            return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_FOR_US, DecryptedMessage.Format.PGP_MIME,
                    result);
        }
        return compose(root, result);
    }

    private DecryptedMessage compose(List<HeaderField> outer, DecryptionResult result)
            throws IOException, DecryptionFailedException {
        Spool out = new Spool(limits.spoolMemoryThreshold(), limits.maxPlaintextBytes() + MAX_HEADER_BYTES,
                spoolDir);
        try (InputStream plain = result.plaintext().orElseThrow().openStream()) {
            List<HeaderField> inner;
            try {
                inner = Headers.read(plain, MAX_HEADER_BYTES, MAX_HEADER_FIELDS);
            } catch (IOException e) {
                throw new DecryptionFailedException("inner-header", e);
            }
            Optional<HeaderField> innerType = Headers.first(inner, "Content-Type");
            DecryptedMessage.HeaderProtection hp = Headers.parameter(innerType, "hp").isPresent()
                    ? DecryptedMessage.HeaderProtection.RFC9788
                    : Headers.parameter(innerType, "protected-headers").map(v -> v.equalsIgnoreCase("v1"))
                    .orElse(false) ? DecryptedMessage.HeaderProtection.PROTECTED_HEADERS_V1
                    : DecryptedMessage.HeaderProtection.NONE;
            List<HeaderField> fields = new ArrayList<>();
            if (hp != DecryptedMessage.HeaderProtection.NONE) {
                Set<String> innerNames = new HashSet<>();
                for (HeaderField f : inner) {
                    innerNames.add(f.lowerName());
                }
                for (HeaderField f : outer) {
                    if (!Headers.isContentField(f) && !innerNames.contains(f.lowerName()) && !isOurs(f)) {
                        fields.add(f);
                    }
                }
                for (HeaderField f : inner) {
                    if (!f.is("HP-Outer") && !f.is("MIME-Version") && !isOurs(f)) {
                        fields.add(f);
                    }
                }
            } else {
                for (HeaderField f : outer) {
                    if (!Headers.isContentField(f) && !isOurs(f)) {
                        fields.add(f);
                    }
                }
                for (HeaderField f : inner) {
                    if (Headers.isContentField(f) && !f.is("MIME-Version")) {
                        fields.add(f);
                    }
                }
            }
            String from = Headers.address(Headers.first(fields, "From")).orElse(null);
            List<SignatureResult> all = new ArrayList<>(result.signatures());
            innerSignature(result.plaintext().orElseThrow(), innerType).ifPresent(all::add);
            List<SignatureResult> sigs = all.stream().map(sr -> sr.withFrom(from)).toList();
            String subject = Headers.first(fields, "Subject").map(HeaderField::unfolded).orElse(null);
            try (OutputStream o = out.output()) {
                StringBuilder head = new StringBuilder();
                for (HeaderField f : fields) {
                    head.append(f.toWire());
                }
                head.append("MIME-Version: 1.0\r\n");
                head.append(status(sigs).toWire());
                head.append("\r\n");
                o.write(head.toString().getBytes(StandardCharsets.UTF_8));
                Optional<String> mixed = hp == DecryptedMessage.HeaderProtection.NONE ? Optional.empty()
                        : LegacyDisplay.mixedBoundary(innerType);
                if (mixed.isPresent()) {
                    LegacyDisplay.copyWithout(plain, o, mixed.get());
                } else if (hp == DecryptedMessage.HeaderProtection.RFC9788
                        && LegacyDisplay.hasElement(innerType, Headers.first(inner, "Content-Transfer-Encoding"))) {
                    LegacyDisplay.copyWithoutElement(plain, o);
                } else {
                    plain.transferTo(o);
                }
            }
            Spool done = out;
            out = null;
            return new DecryptedMessage(DecryptedMessage.Kind.DECRYPTED, DecryptedMessage.Format.PGP_MIME, hp,
                    result, sigs, done, subject);
        } finally {
            if (out != null) {
                out.close();
                result.close();
            }
        }
    }

    /**
     * An inner {@code multipart/signed} (sign, then encrypt: RFC 3156 §6.1) is verified too; its first part is the
     * whole signed content, and the structure itself is left byte-exact for the client.
     */
    private Optional<SignatureResult> innerSignature(Spool plaintext, Optional<HeaderField> innerType)
            throws IOException {
        if (verifier == null || !Headers.mediaType(innerType).equals("multipart/signed")
                || !Headers.parameter(innerType, "protocol").map(p -> p.equalsIgnoreCase("application/pgp-signature"))
                .orElse(false)) {
            return Optional.empty();
        }
        Optional<String> boundary = Headers.parameter(innerType, "boundary");
        if (boundary.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = plaintext.openStream()) {
            Headers.read(in, MAX_HEADER_BYTES, MAX_HEADER_FIELDS);
            return MultipartSignedVerifier.verify(in, boundary.get(), verifier, limits.maxPlaintextBytes(),
                    limits.spoolMemoryThreshold(), spoolDir);
        } catch (IOException e) {
            return Optional.empty(); // an unverifiable inner signature is simply not claimed
        }
    }

    // ------------------------------------------------------------------ inline PGP

    private DecryptedMessage inline(InputStream decodedBody, List<HeaderField> root, Optional<HeaderField> ct)
            throws IOException, DecryptionFailedException {
        try (Spool body = new Spool(limits.spoolMemoryThreshold(), limits.maxPlaintextBytes(), spoolDir)) {
            try (OutputStream o = body.output()) {
                decodedBody.transferTo(o);
            }
            if (!isWholeArmoredMessage(body)) {
                return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_ENCRYPTED,
                        DecryptedMessage.Format.NONE, null);
            }
            DecryptionResult result;
            try (InputStream in = body.openStream()) {
                result = decryptor.decrypt(in);
            }
            if (!result.forUs()) {
                return DecryptedMessage.passThrough(DecryptedMessage.Kind.NOT_FOR_US,
                        DecryptedMessage.Format.INLINE, result);
            }
            // the plaintext is in the charset the sender's client used for the part; armor itself is ASCII
            String charset = Headers.parameter(ct, "charset").orElse("utf-8").replaceAll("[^A-Za-z0-9_.:-]", "");
            List<HeaderField> fields = new ArrayList<>();
            for (HeaderField f : root) {
                if (!Headers.isContentField(f) && !isOurs(f)) {
                    fields.add(f);
                }
            }
            String from = Headers.address(Headers.first(fields, "From")).orElse(null);
            List<SignatureResult> sigs = result.signatures().stream().map(sr -> sr.withFrom(from)).toList();
            Spool out = new Spool(limits.spoolMemoryThreshold(),
                    limits.maxPlaintextBytes() * 2 + MAX_HEADER_BYTES, spoolDir);
            try {
                try (OutputStream o = out.output(); InputStream plain = result.plaintext().orElseThrow().openStream()) {
                    StringBuilder head = new StringBuilder();
                    for (HeaderField f : fields) {
                        head.append(f.toWire());
                    }
                    head.append("MIME-Version: 1.0\r\n");
                    head.append("Content-Type: text/plain; charset=").append(charset).append("\r\n");
                    head.append("Content-Transfer-Encoding: base64\r\n");
                    head.append(status(sigs).toWire());
                    head.append("\r\n");
                    o.write(head.toString().getBytes(StandardCharsets.UTF_8));
                    OutputStream b64 = Base64.getMimeEncoder().wrap(new NonClosing(o));
                    plain.transferTo(b64);
                    b64.close();
                    o.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
            } catch (IOException | RuntimeException e) {
                out.close();
                result.close();
                throw e;
            }
            return new DecryptedMessage(DecryptedMessage.Kind.DECRYPTED, DecryptedMessage.Format.INLINE,
                    DecryptedMessage.HeaderProtection.NONE, result, sigs, out,
                    Headers.first(fields, "Subject").map(HeaderField::unfolded).orElse(null));
        }
    }

    /** The first non-blank line is the BEGIN line, and nothing but blank lines follows the END line. */
    static boolean isWholeArmoredMessage(Spool body) throws IOException {
        try (InputStream in = body.openStream()) {
            String line;
            int state = 0; // 0 before BEGIN, 1 inside, 2 after END
            while ((line = readLine(in)) != null) {
                String t = line.strip();
                switch (state) {
                    case 0 -> {
                        if (t.isEmpty()) {
                            continue;
                        }
                        if (!t.equals("-----BEGIN PGP MESSAGE-----")) {
                            return false;
                        }
                        state = 1;
                    }
                    case 1 -> {
                        if (t.equals("-----END PGP MESSAGE-----")) {
                            state = 2;
                        }
                    }
                    default -> {
                        if (!t.isEmpty()) {
                            return false;
                        }
                    }
                }
            }
            return state == 2;
        }
    }

    /** A line without its terminator, truncated at 4096 characters (only its start matters here). */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        boolean any = false;
        while ((c = in.read()) >= 0) {
            any = true;
            if (c == '\n') {
                break;
            }
            if (b.size() < 4096) {
                b.write(c);
            }
        }
        return any ? b.toString(StandardCharsets.ISO_8859_1) : null;
    }

    // ------------------------------------------------------------------ partially encrypted

    private DecryptedMessage scanForPartialEncryption(MimeTokenStream ts) throws IOException, MimeException {
        List<HeaderField> partFields = new ArrayList<>();
        EntityState s;
        boolean partial = false;
        while ((s = ts.next()) != EntityState.T_END_OF_STREAM) {
            if (s == EntityState.T_START_BODYPART) {
                partFields.clear();
            } else if (s == EntityState.T_FIELD) {
                partFields.add(toField(ts.getField()));
            } else if (s == EntityState.T_START_MULTIPART) {
                if (Headers.mediaType(Headers.first(partFields, "Content-Type")).equals("multipart/encrypted")) {
                    partial = true;
                }
            } else if (s == EntityState.T_BODY && !partial) {
                String type = Headers.mediaType(Headers.first(partFields, "Content-Type"));
                if (type.startsWith("text/") || type.equals("application/pgp-encrypted")) {
                    byte[] head = ts.getDecodedInputStream().readNBytes(SCAN_BYTES);
                    partial = new String(head, StandardCharsets.ISO_8859_1).contains("-----BEGIN PGP MESSAGE-----");
                }
            }
        }
        return DecryptedMessage.passThrough(partial ? DecryptedMessage.Kind.PARTIALLY_ENCRYPTED
                : DecryptedMessage.Kind.NOT_ENCRYPTED, DecryptedMessage.Format.NONE, null);
    }

    // ------------------------------------------------------------------ helpers

    private static boolean isOurs(HeaderField f) {
        return f.is(STATUS_HEADER);
    }

    /** Our status field; a signature is only claimed when it is valid and its signer matches From. */
    static HeaderField status(List<SignatureResult> sigs) {
        String sig = "none";
        String signer = null;
        for (SignatureResult s : sigs) {
            if (s.status() == SignatureResult.Status.VALID && s.fromMatches()) {
                sig = "valid";
                signer = s.signerFingerprint().orElse(null);
                break;
            }
        }
        if (signer == null && !sigs.isEmpty()) {
            SignatureResult s = sigs.get(0);
            sig = switch (s.status()) {
                case VALID -> "valid-other-signer";
                case BAD -> "bad";
                case UNKNOWN_KEY -> "unknown-key";
            };
        }
        return HeaderField.of(STATUS_HEADER, "decrypted; integrity=ok; signature=" + sig
                + (signer != null ? "; signer=" + signer : ""));
    }

    private static HeaderField toField(Field f) throws IOException {
        if (f.getRaw() != null) {
            String raw = new String(f.getRaw().toByteArray(), StandardCharsets.UTF_8);
            int colon = raw.indexOf(':');
            if (colon > 0) {
                try {
                    return new HeaderField(raw.substring(0, colon).trim(), raw.substring(colon + 1));
                } catch (IllegalArgumentException e) {
                    throw new IOException("malformed header field", e);
                }
            }
        }
        return new HeaderField(f.getName(), " " + f.getBody());
    }

    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

}
