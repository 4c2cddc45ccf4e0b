package org.mailproxy.smtp.transform;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.mailproxy.config.Account;
import org.mailproxy.config.SendPolicy;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.LiveKeyring;
import org.mailproxy.core.crypto.openpgp.Encryptor;
import org.mailproxy.core.crypto.openpgp.KeyException;
import org.mailproxy.core.crypto.openpgp.KeyLookup;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.crypto.openpgp.spool.Spool;
import org.mailproxy.smtp.transform.MessageStream.Copy;
import org.mailproxy.smtp.transform.MessageStream.FurtherCopies;
import org.mailproxy.core.mime.HeaderField;
import org.mailproxy.core.mime.Headers;
import org.mailproxy.core.mime.PgpMimeEncryptor;
import org.mailproxy.core.mime.PgpMimeSigner;
import org.mailproxy.smtp.codec.SmtpException;
import org.mailproxy.smtp.codec.SmtpReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Locale;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Outgoing mail by the sending account's {@link SendPolicy}: PGP/MIME-encrypted (RFC 3156 §4) to every recipient and
 * to the sender and signed inside, {@code multipart/signed} (RFC 3156 §5) when only signing applies, or as the client
 * wrote it.
 *
 * <p>What can be decided from the envelope is decided in {@link #open}, before DATA goes upstream, so a refusal
 * (a recipient without a key under {@code required}, a locked key) leaves the client with its message. The header
 * section is then read whole (bounded); it says whether the client already encrypted or signed the message (then it
 * passes untouched) and which fields go inside. The body streams through the encryptor to the upstream: memory stays
 * flat whatever the size. A {@code Bcc:} field never goes out (SECURITY.md 15).
 */
public final class EncryptingTransform implements MessageTransform {
    private static final Logger log = LoggerFactory.getLogger(EncryptingTransform.class);
    private static final Pattern ADDRESS = Pattern.compile("[^\\s<>,;:\"()\\[\\]]+@[^\\s<>,;:\"()\\[\\]]+");
    private static final int MAX_HEADER_FIELDS = 1000;
    /** Media types of messages a client protected itself (RFC 3156, RFC 8551). */
    private static final Set<String> ALREADY_PROTECTED = Set.of("multipart/encrypted", "multipart/signed",
            "application/pkcs7-mime", "application/x-pkcs7-mime");

    private final Supplier<Keyring> keyring;
    private final KeyLookup lookup;
    private final Function<String, SendPolicy> policies;
    private final Function<String, Optional<UnlockedKey>> signingKeys;
    private final int maxHeaderBytes;
    private final Map<String, String> autocryptKeydata = new ConcurrentHashMap<>();

    /**
     * @param keyring        certificates to encrypt to and the accounts' own keys
     * @param lookup         finds a recipient's certificate by address
     * @param policies       the policy of an account, by its email address
     * @param signingKeys    an account's unlocked key, by its email address; empty while locked or absent
     * @param maxHeaderBytes the largest header section read before deciding (SECURITY.md 18)
     */
    public EncryptingTransform(Supplier<Keyring> keyring, KeyLookup lookup, Function<String, SendPolicy> policies,
                               Function<String, Optional<UnlockedKey>> signingKeys, int maxHeaderBytes) {
        this.keyring = keyring;
        this.lookup = lookup;
        this.policies = policies;
        this.signingKeys = signingKeys;
        this.maxHeaderBytes = maxHeaderBytes;
    }

    /** The daemon's transform: the keyring in {@code keysDir} as it is on disk, and each account's policy and key. */
    public static EncryptingTransform forDaemon(Path keysDir, List<Account> accounts, AccountKeys keys,
                                                int maxHeaderBytes) {
        LiveKeyring live = new LiveKeyring(keysDir);
        Map<String, SendPolicy> policies = new HashMap<>();
        for (Account a : accounts) {
            policies.put(a.email().toLowerCase(Locale.ROOT), a.policy());
        }
        return new EncryptingTransform(live, address -> KeyLookup.keyring(live.get()).encryptionKeyFor(address),
                email -> policies.getOrDefault(email.toLowerCase(Locale.ROOT), SendPolicy.DEFAULT), keys::key,
                maxHeaderBytes);
    }

    /** What happens to one message, as far as the envelope tells. */
    private record Plan(Envelope envelope, SendPolicy policy, String account, boolean encrypt,
                        Map<String, String> keyByAddress, UnlockedKey signer, Optional<String> ownFingerprint) {

        /** Every recipient's key and the sender's, or those of {@code addresses} and the sender's. */
        List<String> fingerprints(List<String> addresses) {
            Set<String> out = new LinkedHashSet<>();
            for (String a : addresses) {
                out.add(keyByAddress.get(a));
            }
            ownFingerprint.ifPresent(out::add);
            return List.copyOf(out);
        }
    }

    /**
     * Base64 armor makes 4 octets of 3 and adds CRLF every 64 characters (RFC 9580 §6.2): 1.375 times, plus the MIME
     * frame, the header copies inside and the OpenPGP packets, which a fixed allowance covers.
     */
    private static final long EXPANSION_PERCENT = 140;
    private static final long FIXED_OVERHEAD = 64 * 1024;

    /** Bcc recipients of encrypted mail get copies of their own, so the first copy's recipients wait for the header. */
    @Override
    public boolean decidesRecipients() {
        return true;
    }

    @Override
    public long inputLimit(long upstreamLimit) {
        return Math.max(0, (upstreamLimit - FIXED_OVERHEAD) * 100 / EXPANSION_PERCENT);
    }

    @Override
    public long outputSize(long declared) {
        return declared > (Long.MAX_VALUE - FIXED_OVERHEAD) / EXPANSION_PERCENT ? Long.MAX_VALUE
                : declared * EXPANSION_PERCENT / 100 + FIXED_OVERHEAD;
    }

    @Override
    public MessageStream open(Envelope envelope, ContentSink out) throws SmtpException {
        return new PolicyStream(plan(envelope), out);
    }

    private Plan plan(Envelope envelope) throws SmtpException {
        String account = envelope.account();
        SendPolicy policy = policies.apply(account);
        List<String> requiredWithoutKey = new ArrayList<>();
        List<String> required = new ArrayList<>();
        List<String> never = new ArrayList<>();
        boolean everyoneHasKey = true;
        Map<String, String> keyByAddress = new HashMap<>();
        for (String rcpt : envelope.recipientAddresses()) {
            SendPolicy.Encrypt mode = policy.forRecipient(rcpt);
            Optional<String> key = mode == SendPolicy.Encrypt.NEVER ? Optional.empty() : lookup.encryptionKeyFor(rcpt);
            switch (mode) {
                case NEVER -> never.add(rcpt);
                case REQUIRED -> {
                    required.add(rcpt);
                    if (key.isEmpty()) {
                        requiredWithoutKey.add(rcpt);
                    }
                }
                case OPPORTUNISTIC -> {
                }
            }
            everyoneHasKey &= key.isPresent();
            key.ifPresent(k -> keyByAddress.put(rcpt, k));
        }
        if (!requiredWithoutKey.isEmpty()) {
            throw refused(550, "5.7.1", "Message refused: no usable OpenPGP key for "
                    + String.join(", ", requiredWithoutKey) + ", and the policy requires encrypting to "
                    + (requiredWithoutKey.size() == 1 ? "it" : "them"));
        }
        if (!required.isEmpty() && !never.isEmpty()) {
            throw refused(550, "5.7.1", "Message refused: the policy requires encryption for " + required.get(0)
                    + " but forbids it for " + never.get(0) + "; send them separate messages");
        }
        boolean encrypt = everyoneHasKey && never.isEmpty() && !keyByAddress.isEmpty();
        Optional<String> own = lookup.encryptionKeyFor(account);
        boolean sign = policy.sign() == SendPolicy.Sign.ALWAYS
                || policy.sign() == SendPolicy.Sign.WHEN_ENCRYPTING && encrypt;
        UnlockedKey signer = null;
        if (sign) {
            signer = signingKeys.apply(account).orElse(null);
            boolean hasSecretKey = signer != null || hasSecretKey(account);
            if (signer == null && hasSecretKey) {
                throw refused(451, "4.7.0", "The OpenPGP key of " + account
                        + " is locked; run `mailproxy keys unlock " + account + "`, then send again");
            }
            if (signer == null && policy.sign() == SendPolicy.Sign.ALWAYS) {
                throw refused(554, "5.7.0", "Message refused: the policy signs every message but " + account
                        + " has no OpenPGP key; run `mailproxy keys generate --email " + account
                        + "` or set the account's policy sign = when-encrypting");
            }
            if (signer == null) {
                // no key at all: encryption still protects the message; signing is what cannot happen
                log.info("account {} has no OpenPGP key: the message is encrypted but not signed", account);
            }
        }
        return new Plan(envelope, policy, account, encrypt, Map.copyOf(keyByAddress), signer, own);
    }

    /** Whether the keyring holds a secret key with a user ID for {@code address} (a certificate alone is not). */
    private boolean hasSecretKey(String address) {
        String wanted = "<" + address.toLowerCase(Locale.ROOT) + ">";
        return keyring.get().list().stream().anyMatch(k -> k.secret() && k.userIds().stream()
                .anyMatch(id -> id.toLowerCase(Locale.ROOT).contains(wanted)));
    }

    /** The addresses the header shows as recipients (To, Cc), lower-cased. */
    static Set<String> visibleAddresses(List<HeaderField> fields) {
        Set<String> out = new java.util.HashSet<>();
        for (HeaderField f : fields) {
            if (f.is("To") || f.is("Cc")) {
                // quoted display names may hold an @ that is no address
                String v = f.unfolded().replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ");
                Matcher m = ADDRESS.matcher(v);
                while (m.find()) {
                    out.add(m.group().toLowerCase(Locale.ROOT));
                }
            }
        }
        return out;
    }

    private static SmtpException refused(int code, String enhanced, String text) {
        return new SmtpException(SmtpReply.of(code, enhanced, text));
    }

    /** The account's certificate for an {@code Autocrypt:} field (Autocrypt Level 1 §2.1), base64, cached. */
    private Optional<HeaderField> autocrypt(Plan plan, List<HeaderField> fields) {
        if (!plan.policy().autocrypt() || plan.ownFingerprint().isEmpty()
                || Headers.first(fields, "Autocrypt").isPresent()
                || !Headers.address(Headers.first(fields, "From")).map(plan.account()::equalsIgnoreCase).orElse(false)) {
            return Optional.empty();
        }
        String keydata = autocryptKeydata.computeIfAbsent(plan.ownFingerprint().get(), fpr -> {
            ByteArrayOutputStream cert = new ByteArrayOutputStream();
            try {
                keyring.get().export(fpr, false, false, cert);
            } catch (IOException | KeyException e) {
                throw new UncheckedIOException(new IOException("cannot export " + fpr, e));
            }
            return Base64.getEncoder().encodeToString(cert.toByteArray());
        });
        StringBuilder v = new StringBuilder(" addr=").append(plan.account()).append("; keydata=");
        for (int i = 0; i < keydata.length(); i += 72) {
            v.append("\n ").append(keydata, i, Math.min(keydata.length(), i + 72));
        }
        return Optional.of(new HeaderField("Autocrypt", v.toString()));
    }

    /** One message: the header section is collected, then the body streams to where the decision points. */
    private final class PolicyStream implements MessageStream {
        private final Plan plan;
        private final ContentSink out;
        private final SinkOutputStream sink;
        private final ByteArrayOutputStream header = new ByteArrayOutputStream();
        private boolean atLineStart = true;
        private boolean crAtLineStart;
        /** Where body octets go once the header section is complete; null until then. */
        private OutputStream body;
        /** The body in clear for the Bcc recipients' copies (encrypted at rest), or null without any. */
        private Spool bccSpool;
        private OutputStream bccSpoolOut;
        private FurtherCopies copies = FurtherCopies.NONE;

        PolicyStream(Plan plan, ContentSink out) {
            this.plan = plan;
            this.out = out;
            this.sink = new SinkOutputStream(out, ByteBufAllocator.DEFAULT);
        }

        @Override
        public void write(ByteBuf content) throws SmtpException {
            try {
                if (body == null) {
                    int end = headerEnd(content);
                    int take = end < 0 ? content.readableBytes() : end - content.readerIndex();
                    if (header.size() + take > maxHeaderBytes) {
                        throw refused(552, "5.3.4", "Message refused: its header section is larger than "
                                + maxHeaderBytes + " octets");
                    }
                    content.readBytes(header, take);
                    if (end < 0) {
                        return;
                    }
                    body = decide(true);
                }
                content.readBytes(body, content.readableBytes());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                content.release();
            }
        }

        /** The index just past the blank line that ends the header section, or -1 when this chunk holds none. */
        private int headerEnd(ByteBuf content) {
            for (int i = content.readerIndex(); i < content.writerIndex(); i++) {
                byte b = content.getByte(i);
                if (crAtLineStart && b == '\n') {
                    return i + 1;
                }
                crAtLineStart = atLineStart && b == '\r';
                atLineStart = b == '\n';
            }
            return -1;
        }

        /** Reads the header section and writes the start of the message; returns where the body goes. */
        private OutputStream decide(boolean complete) throws SmtpException, IOException {
            byte[] raw = header.toByteArray();
            List<HeaderField> fields;
            try {
                fields = Headers.read(new ByteArrayInputStream(raw), raw.length + 1, MAX_HEADER_FIELDS);
            } catch (IOException e) {
                if (plan.encrypt() || plan.signer() != null) {
                    throw refused(554, "5.6.0", "Message refused: its header section is malformed ("
                            + e.getMessage() + ")");
                }
                // nothing to change: the provider judges the message as the client wrote it
                sink.write(raw);
                return sink;
            }
            boolean hasBcc = fields.stream().anyMatch(f -> f.is("Bcc"));
            List<HeaderField> kept = hasBcc ? fields.stream().filter(f -> !f.is("Bcc")).toList() : fields;
            String type = Headers.mediaType(Headers.first(fields, "Content-Type"));
            if (ALREADY_PROTECTED.contains(type)) {
                log.debug("message already protected by the client ({}): sent as it came", type);
                writeHeader(raw, kept, hasBcc, List.of(), complete);
                return sink;
            }
            List<HeaderField> extra = autocrypt(plan, fields).map(List::of).orElse(List.of());
            try {
                if (plan.encrypt()) {
                    return encrypted(fields, kept, extra);
                }
                if (plan.signer() != null) {
                    return PgpMimeSigner.open(sink, kept, plan.signer(), extra);
                }
            } catch (KeyException e) {
                log.warn("encryption could not start: {}", e.getMessage());
                throw refused(451, "4.7.0", "Message not sent: a key changed while it was being sent; try again");
            }
            writeHeader(raw, kept, hasBcc, extra, complete);
            return sink;
        }

        /**
         * The encrypted message for the recipients the header shows; each Bcc recipient (in the envelope, not in
         * To or Cc) gets a copy encrypted for them alone (and the sender), so the others cannot see their key IDs.
         * Their copies are made from the body spooled here, after the first copy went out.
         */
        private OutputStream encrypted(List<HeaderField> fields, List<HeaderField> kept, List<HeaderField> extra)
                throws IOException, KeyException {
            Set<String> visible = visibleAddresses(fields);
            List<String> shown = new ArrayList<>();
            List<String> hidden = new ArrayList<>();
            for (String path : plan.envelope().recipients()) {
                (visible.contains(Envelope.bare(path)) ? shown : hidden).add(path);
            }
            if (shown.isEmpty()) {
                // only Bcc recipients ("undisclosed recipients"): every one of them gets a copy of their own
                shown.add(hidden.remove(0));
            }
            PgpMimeEncryptor.Options options = new PgpMimeEncryptor.Options(true, plan.policy().obscuredSubject(),
                    extra);
            out.recipients(shown);
            OutputStream main = new PgpMimeEncryptor(new Encryptor(keyring.get())).open(sink, kept,
                    plan.fingerprints(shown.stream().map(Envelope::bare).toList()), plan.signer(), options);
            if (hidden.isEmpty()) {
                return main;
            }
            bccSpool = new Spool(1 << 20, Long.MAX_VALUE, null);
            bccSpoolOut = bccSpool.output();
            List<Copy> list = new ArrayList<>();
            for (String path : hidden) {
                list.add(new BccCopy(path, kept, options));
            }
            Spool spool = bccSpool;
            copies = new FurtherCopies() {
                @Override
                public List<Copy> copies() {
                    return list;
                }

                @Override
                public void close() {
                    try {
                        spool.close();
                    } catch (IOException e) {
                        log.debug("spool close failed", e);
                    }
                }
            };
            return new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    main.write(b);
                    bccSpoolOut.write(b);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    main.write(b, off, len);
                    bccSpoolOut.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    main.close();
                    bccSpoolOut.close();
                }
            };
        }

        /** A Bcc recipient's copy: the same header and body, encrypted to them and the sender. */
        private final class BccCopy implements Copy {
            private final String path;
            private final List<HeaderField> kept;
            private final PgpMimeEncryptor.Options options;

            BccCopy(String path, List<HeaderField> kept, PgpMimeEncryptor.Options options) {
                this.path = path;
                this.kept = kept;
                this.options = options;
            }

            @Override
            public List<String> recipients() {
                return List.of(path);
            }

            @Override
            public void writeTo(ContentSink out) throws SmtpException {
                SinkOutputStream copySink = new SinkOutputStream(out, ByteBufAllocator.DEFAULT);
                try (OutputStream enc = new PgpMimeEncryptor(new Encryptor(keyring.get())).open(copySink, kept,
                        plan.fingerprints(List.of(Envelope.bare(path))), plan.signer(), options);
                     java.io.InputStream in = bccSpool.openStream()) {
                    in.transferTo(enc);
                } catch (KeyException e) {
                    copySink.discard();
                    throw refused(451, "4.7.0", "Message not sent: a key changed while it was being sent; try again");
                } catch (IOException e) {
                    copySink.discard();
                    throw new UncheckedIOException(e);
                }
                copySink.flush();
            }
        }

        /** The header as it came when nothing changes, byte for byte; otherwise the kept fields. */
        private void writeHeader(byte[] raw, List<HeaderField> kept, boolean changed, List<HeaderField> extra,
                                 boolean complete) {
            if (!changed && extra.isEmpty()) {
                sink.write(raw);
                return;
            }
            StringBuilder h = new StringBuilder();
            for (HeaderField f : extra) {
                h.append(f.toWire());
            }
            for (HeaderField f : kept) {
                h.append(f.toWire());
            }
            if (complete) {
                h.append("\r\n");
            }
            sink.write(h.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        @Override
        public void end() throws SmtpException {
            try {
                if (body == null) {
                    // no blank line: the whole message was a header section
                    body = decide(false);
                }
                if (body != sink) {
                    body.close();
                }
                sink.flush();
                if (bccSpoolOut != null) {
                    bccSpoolOut.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public FurtherCopies furtherCopies() {
            return copies;
        }

        @Override
        public void abort() {
            sink.discard();
            copies.close();
            if (bccSpool != null) {
                try {
                    bccSpool.close();
                } catch (IOException e) {
                    log.debug("spool close failed", e);
                }
            }
        }
    }
}
