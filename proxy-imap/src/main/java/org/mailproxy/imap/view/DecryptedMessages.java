package org.mailproxy.imap.view;

import org.mailproxy.core.cache.CacheEntry;
import org.mailproxy.core.cache.CacheEntryWriter;
import org.mailproxy.core.cache.MessageCache;
import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * One account's messages as the view shows them, made once into the account's {@link MessageCache} and answered
 * from it afterwards. The view of a message is one of:
 * <ul>
 * <li>{@link Outcome#DECRYPTED}: the replacement message {@link PgpMimeDecryptor} makes (protected headers promoted,
 *     its own {@value PgpMimeDecryptor#STATUS_HEADER} field);</li>
 * <li>{@link Outcome#UNDECRYPTABLE}: the message as stored, with the one fixed {@link #NOTICE} field first. Why it
 *     could not be decrypted (not for this account, damaged, integrity failure, an encrypted part among others) is
 *     never recorded or shown (SECURITY.md 1-4: one indistinguishable failure);</li>
 * <li>{@link Outcome#CLEANED}: a message that is not encrypted but arrived carrying a field of our status header's
 *     name, shown without it (SECURITY.md 8: nobody outside may speak for the proxy).</li>
 * </ul>
 * The entry's metadata holds the outcome and the view's {@link MessageStructure}, so BODYSTRUCTURE and sections are
 * answered without parsing the message again. Two sessions asking for the same message at once make it once.
 */
public final class DecryptedMessages {

    /** What the view shows for a message. */
    public enum Outcome {
        DECRYPTED('D'),
        UNDECRYPTABLE('U'),
        CLEANED('C');

        private final byte code;

        Outcome(char code) {
            this.code = (byte) code;
        }

        static Outcome of(byte code) throws IOException {
            for (Outcome o : values()) {
                if (o.code == code) {
                    return o;
                }
            }
            throw new IOException("unknown view outcome");
        }
    }

    /** The field shown first in a message that could not be decrypted; the same whatever the reason. */
    public static final String NOTICE = PgpMimeDecryptor.STATUS_HEADER + ": not-decrypted\r\n";

    /** Supplies the message as the provider stores it (the caller fetched it upstream); may be opened twice. */
    @FunctionalInterface
    public interface RawMessage {
        InputStream open() throws IOException;
    }

    /** The view of one message; close it (it holds the cache entry's file open). */
    public record Result(Outcome outcome, MessageStructure structure, CacheEntry entry) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            entry.close();
        }
    }

    private static final int MAX_HEADER_BYTES = 1 << 20;

    private final MessageCache cache;
    private final java.util.function.Supplier<PgpMimeDecryptor> decryptor;
    private final Map<Key, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    private record Key(String mailbox, long uidValidity, long uid) {
    }

    public DecryptedMessages(MessageCache cache, PgpMimeDecryptor decryptor) {
        this(cache, () -> decryptor);
        Objects.requireNonNull(decryptor, "decryptor");
    }

    /**
     * @param decryptor asked once per message made, so that one built on the live keyring verifies signatures with
     *                  the contacts' certificates imported since
     */
    public DecryptedMessages(MessageCache cache, java.util.function.Supplier<PgpMimeDecryptor> decryptor) {
        this.cache = Objects.requireNonNull(cache, "cache");
        this.decryptor = Objects.requireNonNull(decryptor, "decryptor");
    }

    public MessageCache cache() {
        return cache;
    }

    /** The view of the message if the cache holds it. */
    public Optional<Result> lookup(String mailbox, long uidValidity, long uid) throws IOException {
        Optional<CacheEntry> cached = cache.get(mailbox, uidValidity, uid);
        if (cached.isEmpty()) {
            return Optional.empty();
        }
        CacheEntry e = cached.get();
        byte[] meta = e.metadata();
        try {
            if (meta.length < 1) {
                throw new IOException("entry without a view outcome");
            }
            Outcome outcome = Outcome.of(meta[0]);
            MessageStructure structure = MessageStructure.fromBytes(Arrays.copyOfRange(meta, 1, meta.length));
            return Optional.of(new Result(outcome, structure, e));
        } catch (IOException malformed) {
            // an entry from an older layout: made again
            e.close();
            cache.remove(mailbox, uidValidity, uid);
            return Optional.empty();
        }
    }

    /**
     * COPY or MOVE made the message {@code toUid} in {@code toMailbox} (RFC 4315 COPYUID): its view is the same, so
     * the cache entry is copied instead of being made again from the provider's copy. Nothing happens when the
     * source has no entry.
     */
    public void copy(String fromMailbox, long fromUidValidity, long fromUid, String toMailbox, long toUidValidity,
                     long toUid) throws IOException {
        Optional<CacheEntry> from = cache.get(fromMailbox, fromUidValidity, fromUid);
        if (from.isEmpty()) {
            return;
        }
        try (CacheEntry e = from.get();
             CacheEntryWriter out = cache.writer(toMailbox, toUidValidity, toUid);
             InputStream in = e.openStream(0)) {
            in.transferTo(out);
            out.commit(e.metadata());
        }
    }

    /** EXPUNGE or VANISHED removed the message: so goes its view. */
    public void remove(String mailbox, long uidValidity, long uid) throws IOException {
        cache.remove(mailbox, uidValidity, uid);
    }

    /**
     * Whether the cache holds the view of the message (from its index: cheap, no file read; an entry that turns out
     * unreadable when it is {@link #lookup looked up} is dropped then, and the message relayed as stored that once).
     */
    public boolean has(String mailbox, long uidValidity, long uid) {
        return cache.contains(mailbox, uidValidity, uid);
    }

    /** The view of the message, making it from {@code raw} into the cache when it holds no entry for it yet. */
    public Result get(String mailbox, long uidValidity, long uid, RawMessage raw) throws IOException {
        Key key = new Key(mailbox, uidValidity, uid);
        // a few rounds: another session's attempt may fail, or an entry may be evicted right after it was made
        for (int round = 0; round < 4; round++) {
            Optional<Result> cached = lookup(mailbox, uidValidity, uid);
            if (cached.isPresent()) {
                return cached.get();
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> running = inFlight.putIfAbsent(key, mine);
            if (running != null) {
                await(running);
                continue;
            }
            try {
                make(key, raw);
                mine.complete(null);
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                inFlight.remove(key, mine);
            }
        }
        throw new IOException("the view of the message does not stay in the cache (larger than its limit?)");
    }

    /** A source the view's octets can be read from twice: once for the structure, once into the cache. */
    @FunctionalInterface
    private interface Source {
        InputStream open() throws IOException;
    }

    private void make(Key key, RawMessage raw) throws IOException {
        DecryptedMessage m = null;
        try {
            Outcome outcome;
            Source view;
            try (InputStream in = raw.open()) {
                m = decryptor.get().decrypt(in);
            } catch (DecryptionFailedException e) {
                m = null;
            }
            if (m != null && m.kind() == DecryptedMessage.Kind.DECRYPTED && m.message().isPresent()) {
                outcome = Outcome.DECRYPTED;
                var spool = m.message().get();
                view = spool::openStream;
            } else if (m != null && m.kind() == DecryptedMessage.Kind.NOT_ENCRYPTED) {
                outcome = Outcome.CLEANED;
                view = () -> withoutStatusField(raw.open(), null);
            } else {
                outcome = Outcome.UNDECRYPTABLE;
                view = () -> withoutStatusField(raw.open(), NOTICE);
            }
            MessageStructure structure;
            try (InputStream in = view.open()) {
                structure = MessageStructure.parse(in);
            } catch (IOException unsafe) {
                if (outcome != Outcome.DECRYPTED) {
                    throw unsafe;
                }
                // a decrypted structure beyond the parser's limits (parts, depth, header size) is an unsafe
                // structure: shown as stored, with the notice
                outcome = Outcome.UNDECRYPTABLE;
                view = () -> withoutStatusField(raw.open(), NOTICE);
                try (InputStream in = view.open()) {
                    structure = MessageStructure.parse(in);
                }
            }
            byte[] s = structure.toBytes();
            byte[] meta = new byte[s.length + 1];
            meta[0] = outcome.code;
            System.arraycopy(s, 0, meta, 1, s.length);
            try (CacheEntryWriter out = cache.writer(key.mailbox(), key.uidValidity(), key.uid());
                 InputStream in = view.open()) {
                in.transferTo(out);
                out.commit(meta);
            }
        } finally {
            if (m != null) {
                m.close();
            }
        }
    }

    /**
     * The message with every top-level {@value PgpMimeDecryptor#STATUS_HEADER} field removed and {@code first}
     * (a whole field with its CRLF) put before the rest of the header.
     */
    static InputStream withoutStatusField(InputStream message, String first) throws IOException {
        byte[] header = HeaderSections.header(message, MAX_HEADER_BYTES);
        byte[] kept = HeaderSections.fields(header, Set.of(PgpMimeDecryptor.STATUS_HEADER), true);
        byte[] prefix = first == null ? new byte[0] : first.getBytes(StandardCharsets.US_ASCII);
        return new SequenceInputStream(new ByteArrayInputStream(concat(prefix, kept)), message);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static void await(CompletableFuture<Void> running) throws IOException {
        try {
            running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while another session made the view");
        } catch (ExecutionException e) {
            // the other session's attempt failed (its fetch, say): try again here
        }
    }
}
