package org.mailproxy.imap.append;

import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.LiveKeyring;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.crypto.openpgp.spool.Spool;
import org.mailproxy.config.ImapSettings;
import org.mailproxy.core.mime.CrlfOutputStream;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.Headers;
import org.mailproxy.imap.view.EncryptionClassifier;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Turns the message a client APPENDs to a Drafts or Sent mailbox ({@link AppendFolders}) into what the provider
 * stores: PGP/MIME (RFC 3156 §4) encrypted to the account's own key and signed by it, with the header protected
 * (RFC 9788 with {@code protected-headers="v1"} for older clients, as the SMTP side writes it). The result is
 * spooled (memory up to a threshold, then a file encrypted at rest, SECURITY.md 25) because the session must know
 * the exact size before it sends the {@code {n}} literal upstream (RFC 9051 §4.3).
 *
 * <p>What stays outside is what a server needs to list, thread and search a stored draft: {@value #OUTER_DOC}; the
 * outer Subject is the account's obscured subject. Every original field (Bcc, Reply-To, X-Mozilla-Draft-Info...)
 * goes inside, byte for byte, followed by one {@code HP-Outer} field per outer field (RFC 9788 §2.2). The body is
 * encrypted as it came (8-bit included: it travels inside an OpenPGP literal packet).
 *
 * <p>A message the client already encrypted (a root {@code multipart/encrypted}, or a root text/plain body that is
 * inline PGP) is stored as it came: {@link Outcome#STORED_AS_IS}. Memory is flat whatever the size: the header
 * section is read whole but bounded, the body streams. Blocking: run it where blocking is allowed.
 *
 * <p>Thread-safe (no state besides its settings); one call per message.
 */
public final class DraftEncryptor {
    static final String OUTER_DOC = "From, To, Cc, Date, Message-ID, In-Reply-To, References";
    /** The fields the outer header keeps (lower case), besides the obscured Subject. */
    private static final Set<String> OUTER = Set.of("from", "to", "cc", "date", "message-id", "in-reply-to",
            "references");
    private static final int MAX_HEADER_FIELDS = 1000;
    private static final int PEEK = 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What happened to the message. */
    public enum Outcome {
        /** The spool holds the PGP/MIME message to store. */
        ENCRYPTED,
        /** The client had encrypted it already; the spool holds it byte for byte. */
        STORED_AS_IS
    }

    /**
     * The message to APPEND upstream. {@link #size()} is the literal's length; read it with
     * {@link #message()}{@code .openStream()}; close it when the APPEND is done (deletes the spool file).
     */
    public record Result(Outcome outcome, Spool message) implements AutoCloseable {
        public Result {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(message, "message");
        }

        public long size() {
            return message.size();
        }

        @Override
        public void close() throws IOException {
            message.close();
        }
    }

    /**
     * The account's key as APPEND encryption uses it.
     *
     * @param fingerprint the account's certificate, the only recipient
     * @param signer      the unlocked key, or null while it is locked (the draft is then encrypted unsigned)
     */
    public record OwnKey(String fingerprint, UnlockedKey signer) {
        public OwnKey {
            Objects.requireNonNull(fingerprint, "fingerprint");
        }
    }

    /**
     * The account's own key: unlocked (encrypt and sign), locked (encrypt only: the certificate needs no
     * passphrase, and storing a draft in clear because the key is locked would be worse), or empty when the account
     * has no secret key or several without a configured fingerprint ({@link AccountKeys#status} says which), where
     * there is nothing to encrypt to. Reads the keyring from disk while the key is locked.
     */
    public static Optional<OwnKey> ownKey(AccountKeys keys, String email) {
        Optional<UnlockedKey> unlocked = keys.key(email);
        if (unlocked.isPresent()) {
            return Optional.of(new OwnKey(unlocked.get().fingerprint(), unlocked.get()));
        }
        AccountKeys.Status status = keys.status(email);
        if (status.state() == AccountKeys.State.LOCKED && status.fingerprint().isPresent()) {
            return Optional.of(new OwnKey(status.fingerprint().get(), null));
        }
        return Optional.empty();
    }

    /** Bounds and where the spool lives. */
    public record Limits(int maxHeaderSection, int memoryThreshold, long maxOutput, Path spoolDir) {
        public Limits {
            if (maxHeaderSection < 1024 || memoryThreshold < 0 || maxOutput < 1024) {
                throw new IllegalArgumentException("limits too small");
            }
        }
    }

    private final Supplier<Keyring> keyring;
    private final Limits limits;

    /**
     * @param keyring the keyring that holds the account's certificate (the daemon's {@code LiveKeyring})
     * @param limits  header section bound (SECURITY.md 18), spool threshold and cap
     */
    public DraftEncryptor(Supplier<Keyring> keyring, Limits limits) {
        this.keyring = Objects.requireNonNull(keyring, "keyring");
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /**
     * The daemon's encryptor: the keyring in {@code keysDir} as it is on disk, a header section of up to 256 KiB,
     * spooled output of up to {@link #outputLimit} of the largest literal a client may send.
     */
    public static DraftEncryptor forDaemon(Path keysDir, ImapSettings.Limits imapLimits) {
        return new DraftEncryptor(new LiveKeyring(keysDir),
                new Limits(256 << 10, 1 << 20, outputLimit(imapLimits.maxLiteral()), null));
    }

    /**
     * What a message of {@code inputSize} octets can grow to: base64 armor makes 4 octets of 3 plus a line end
     * every 64 characters (RFC 9580 §6.2), 1.375 times, plus the MIME frame, the HP-Outer copies and the OpenPGP
     * packets, which a fixed 64 KiB covers (the SMTP side's allowance).
     */
    public static long outputLimit(long inputSize) {
        long fixed = 64 << 10;
        return inputSize > (Long.MAX_VALUE - fixed) / 140 ? Long.MAX_VALUE : inputSize * 140 / 100 + fixed;
    }

    /**
     * Reads {@code message} (the APPEND literal, to its end) and returns what to store: encrypted to {@code key}
     * and signed by it when it is unlocked.
     *
     * @see #encrypt(InputStream, String, UnlockedKey, String)
     */
    public Result encrypt(InputStream message, OwnKey key, String obscuredSubject) throws IOException, KeyException {
        return encrypt(message, key.fingerprint(), key.signer(), obscuredSubject);
    }

    /**
     * Reads {@code message} (the APPEND literal, to its end) and returns what to store.
     *
     * @param message         the client's message; not closed
     * @param ownFingerprint  the account's key: the only recipient
     * @param signer          the account's unlocked key to sign with, or null to encrypt unsigned
     * @param obscuredSubject the outer Subject (the account's {@code policy.obscured-subject})
     * @throws IOException  reading failed, the header section is larger than allowed, or the result is larger than
     *                      {@code maxOutput} ({@link org.mailproxy.core.crypto.openpgp.spool.SpoolOverflowException})
     * @throws KeyException the account's certificate is missing or has no valid encryption key
     */
    public Result encrypt(InputStream message, String ownFingerprint, UnlockedKey signer, String obscuredSubject)
            throws IOException, KeyException {
        Objects.requireNonNull(ownFingerprint, "ownFingerprint");
        if (obscuredSubject.indexOf('\r') >= 0 || obscuredSubject.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("obscured subject must be one line");
        }
        BufferedInputStream in = new BufferedInputStream(message, 1 << 16);
        byte[] header = readHeaderSection(in);
        List<RawField> fields = RawField.split(header, MAX_HEADER_FIELDS);
        Spool spool = new Spool(limits.memoryThreshold(), limits.maxOutput(), limits.spoolDir());
        try {
            OutputStream out = spool.output();
            if (alreadyEncrypted(fields, in)) {
                out.write(header);
                in.transferTo(out);
                out.close();
                return new Result(Outcome.STORED_AS_IS, spool);
            }
            writeEncrypted(out, header, fields, in, ownFingerprint, signer, obscuredSubject);
            out.close();
            return new Result(Outcome.ENCRYPTED, spool);
        } catch (IOException | KeyException | RuntimeException e) {
            spool.close();
            throw e;
        }
    }

    /** The header section up to and including the blank line (or the whole message when it has none), bounded. */
    private byte[] readHeaderSection(InputStream in) throws IOException {
        ByteArrayOutputStream h = new ByteArrayOutputStream(4096);
        boolean lineStart = true;
        boolean crAtLineStart = false;
        int b;
        while ((b = in.read()) >= 0) {
            if (h.size() >= limits.maxHeaderSection()) {
                throw new IOException("header section larger than " + limits.maxHeaderSection() + " octets");
            }
            h.write(b);
            if (b == '\n' && (lineStart || crAtLineStart)) {
                // an empty line: CRLF, or a bare LF as some clients write (RFC 5322 wants CRLF; the server decides)
                break;
            }
            crAtLineStart = lineStart && b == '\r';
            lineStart = b == '\n';
        }
        return h.toByteArray();
    }

    /** RFC 3156 §4 at the root, or inline PGP (a text/plain body that is an armored message). */
    private static boolean alreadyEncrypted(List<RawField> fields, BufferedInputStream body) throws IOException {
        Optional<HeaderField> ct = fields.stream().filter(f -> f.is("Content-Type")).findFirst()
                .map(RawField::asHeaderField);
        String type = Headers.mediaType(ct);
        if (type.equals("multipart/encrypted")) {
            return true;
        }
        if (!type.equals("text/plain")) {
            return false;
        }
        body.mark(PEEK);
        byte[] start = body.readNBytes(PEEK);
        body.reset();
        return EncryptionClassifier.isInlinePgp(start);
    }

    private void writeEncrypted(OutputStream out, byte[] header, List<RawField> fields, InputStream body,
                                String ownFingerprint, UnlockedKey signer, String obscuredSubject)
            throws IOException, KeyException {
        ByteArrayOutputStream outer = new ByteArrayOutputStream();
        List<RawField> outerFields = new ArrayList<>();
        for (RawField f : fields) {
            if (f.name() != null && OUTER.contains(f.lowerName())) {
                outerFields.add(f);
            }
        }
        boolean hasSubject = fields.stream().anyMatch(f -> f.is("Subject"));
        for (RawField f : outerFields) {
            outer.write(f.crlf());
        }
        if (hasSubject) {
            outer.write(("Subject: " + obscuredSubject + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        String boundary = "----=_mailproxy_" + HexFormat.of().formatHex(randomBytes(12));
        String frame = "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
                + " boundary=\"" + boundary + "\"\r\n\r\n"
                + "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/pgp-encrypted\r\n"
                + "Content-Description: PGP/MIME version identification\r\n\r\n"
                + "Version: 1\r\n\r\n"
                + "--" + boundary + "\r\n"
                + "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
                + "Content-Description: OpenPGP encrypted message\r\n"
                + "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n";
        outer.write(frame.getBytes(StandardCharsets.US_ASCII));
        out.write(outer.toByteArray());

        CrlfOutputStream armor = new CrlfOutputStream(out);
        try (OutputStream plain = new Encryptor(keyring.get()).open(armor, List.of(ownFingerprint), signer, true)) {
            plain.write(innerHeader(fields, outerFields, hasSubject ? obscuredSubject : null));
            body.transferTo(plain);
        }
        armor.flush();
        out.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * The inner entity's header: the Content fields (the Content-Type marked as protecting the header), every
     * other original field as it came, then HP-Outer for each outer field (RFC 9788 §2.2), then the blank line.
     */
    private static byte[] innerHeader(List<RawField> fields, List<RawField> outerFields, String outerSubject)
            throws IOException {
        ByteArrayOutputStream inner = new ByteArrayOutputStream();
        boolean hasType = false;
        for (RawField f : fields) {
            if (f.is("Content-Type")) {
                hasType = true;
                inner.write(f.withParameters("hp=\"cipher\"; protected-headers=\"v1\""));
            } else if (f.name() != null && f.lowerName().startsWith("content-")) {
                inner.write(f.raw());
            }
        }
        if (!hasType) {
            // RFC 2045 §5.2's default, written out so that it can carry the markers
            inner.write("Content-Type: text/plain; charset=us-ascii;\r\n hp=\"cipher\"; protected-headers=\"v1\"\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
        }
        for (RawField f : fields) {
            if (f.name() == null || !(f.lowerName().startsWith("content-") || f.is("MIME-Version"))) {
                inner.write(f.raw());
            }
        }
        for (RawField f : outerFields) {
            inner.write(f.hpOuter());
        }
        if (outerSubject != null) {
            inner.write(("HP-Outer: Subject: " + outerSubject + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        inner.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        return inner.toByteArray();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * One header field as raw octets (folding and line end kept), so that 8-bit or oddly encoded fields go inside
     * unchanged. {@code name} is null for a line that is not a field (kept inside, never outside).
     */
    record RawField(String name, byte[] raw) {

        boolean is(String other) {
            return name != null && name.equalsIgnoreCase(other);
        }

        String lowerName() {
            return name.toLowerCase(java.util.Locale.ROOT);
        }

        /** The value as Latin-1 text, for reading ASCII parameters only. */
        HeaderField asHeaderField() {
            String s = new String(raw, StandardCharsets.ISO_8859_1).replace('\0', ' ');
            return new HeaderField(name, s.substring(s.indexOf(':') + 1).replaceAll("\r?\n$", ""));
        }

        /** Without its line end. */
        private byte[] content() {
            int end = raw.length;
            if (end > 0 && raw[end - 1] == '\n') {
                end--;
            }
            if (end > 0 && raw[end - 1] == '\r') {
                end--;
            }
            return java.util.Arrays.copyOf(raw, end);
        }

        /** The field with every line ending in CRLF, for the outer header. */
        byte[] crlf() {
            ByteArrayOutputStream o = new ByteArrayOutputStream(raw.length + 8);
            byte[] c = content();
            for (int i = 0; i < c.length; i++) {
                if (c[i] == '\n' && (i == 0 || c[i - 1] != '\r')) {
                    o.write('\r');
                }
                o.write(c[i]);
            }
            o.write('\r');
            o.write('\n');
            return o.toByteArray();
        }

        /** The field with {@code params} appended on a folded line of its own. */
        byte[] withParameters(String params) {
            ByteArrayOutputStream o = new ByteArrayOutputStream(raw.length + params.length() + 8);
            byte[] c = content();
            int end = c.length;
            while (end > 0 && (c[end - 1] == ' ' || c[end - 1] == '\t' || c[end - 1] == ';')) {
                end--;
            }
            o.write(c, 0, end);
            o.writeBytes((";\r\n " + params + "\r\n").getBytes(StandardCharsets.US_ASCII));
            return o.toByteArray();
        }

        /** {@code HP-Outer: Name: value} (RFC 9788 §2.2), folding kept, CRLF line ends. */
        byte[] hpOuter() {
            ByteArrayOutputStream o = new ByteArrayOutputStream(raw.length + 12);
            o.writeBytes("HP-Outer: ".getBytes(StandardCharsets.US_ASCII));
            o.writeBytes(crlf());
            return o.toByteArray();
        }

        /** Splits a raw header section (its blank line included or not) into fields. */
        static List<RawField> split(byte[] header, int maxFields) throws IOException {
            List<RawField> out = new ArrayList<>();
            int i = 0;
            int n = header.length;
            int fieldStart = -1;
            while (i < n) {
                int lineEnd = i;
                while (lineEnd < n && header[lineEnd] != '\n') {
                    lineEnd++;
                }
                int next = lineEnd < n ? lineEnd + 1 : n;
                boolean blank = next - i == 1 && header[i] == '\n' || next - i == 2 && header[i] == '\r'
                        && header[i + 1] == '\n' || next == i;
                boolean continuation = header[i] == ' ' || header[i] == '\t';
                if (blank || !continuation) {
                    if (fieldStart >= 0) {
                        out.add(field(header, fieldStart, i));
                        if (out.size() > maxFields) {
                            throw new IOException("more than " + maxFields + " header fields");
                        }
                        fieldStart = -1;
                    }
                    if (blank) {
                        break;
                    }
                    fieldStart = i;
                } else if (fieldStart < 0) {
                    fieldStart = i; // a continuation with nothing to continue: kept inside as it is
                }
                i = next;
            }
            if (fieldStart >= 0) {
                out.add(field(header, fieldStart, i));
            }
            return out;
        }

        private static RawField field(byte[] header, int from, int to) {
            byte[] raw = java.util.Arrays.copyOfRange(header, from, to);
            int colon = -1;
            for (int k = 0; k < raw.length; k++) {
                if (raw[k] == ':') {
                    colon = k;
                    break;
                }
                if (raw[k] <= 32 || raw[k] >= 127) {
                    break; // RFC 5322 §3.6.8: printable US-ASCII other than colon
                }
            }
            String name = colon > 0 ? new String(raw, 0, colon, StandardCharsets.US_ASCII) : null;
            if (raw.length > 0 && raw[raw.length - 1] != '\n') {
                // the last field of a message without a body: give it its line end
                raw = java.util.Arrays.copyOf(raw, raw.length + 2);
                raw[raw.length - 2] = '\r';
                raw[raw.length - 1] = '\n';
            }
            return new RawField(name, raw);
        }
    }
}
