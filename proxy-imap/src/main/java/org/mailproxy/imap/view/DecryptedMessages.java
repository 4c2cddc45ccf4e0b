package org.mailproxy.imap.view;

import org.mailproxy.core.cache.CacheEntry;
import org.mailproxy.core.cache.CacheEntryWriter;
import org.mailproxy.core.cache.MessageCache;
import org.mailproxy.core.crypto.openpgp.DecryptionFailedException;
import org.mailproxy.core.mime.DecryptedMessage;
import org.mailproxy.core.mime.PgpMimeDecryptor;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * One account's encrypted messages as the view shows them: decrypted once into the account's {@link MessageCache}
 * and answered from it afterwards. Whether a message could not be decrypted (not for this account, damaged,
 * unsafe structure) is cached too, so such a message is not fetched again on every listing; why is never recorded
 * (SECURITY.md 1-4: one indistinguishable failure). Two sessions asking for the same message at once decrypt it once.
 */
public final class DecryptedMessages {

    /** What the view has for a message. */
    public enum Outcome {
        /** The entry holds the decrypted message (the replacement with our status header). */
        DECRYPTED,
        /** Shown as the provider stores it, with the fixed notice. */
        UNDECRYPTABLE
    }

    /** Supplies the message as the provider stores it (the caller fetches it upstream). */
    @FunctionalInterface
    public interface RawMessage {
        InputStream open() throws IOException;
    }

    /** The view of one message; close it (it holds the cache entry's file open). */
    public record Result(Outcome outcome, CacheEntry entry) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            entry.close();
        }
    }

    private static final byte[] DECRYPTED = {'D'};
    private static final byte[] UNDECRYPTABLE = {'U'};

    private final MessageCache cache;
    private final PgpMimeDecryptor decryptor;
    private final Map<Key, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

    private record Key(String mailbox, long uidValidity, long uid) {
    }

    public DecryptedMessages(MessageCache cache, PgpMimeDecryptor decryptor) {
        this.cache = Objects.requireNonNull(cache, "cache");
        this.decryptor = Objects.requireNonNull(decryptor, "decryptor");
    }

    /** The view of the message, decrypting {@code raw} into the cache when it holds no entry for it yet. */
    public Result get(String mailbox, long uidValidity, long uid, RawMessage raw) throws IOException {
        Key key = new Key(mailbox, uidValidity, uid);
        // a few rounds: another session's attempt may fail, or an entry may be evicted right after it was made
        for (int round = 0; round < 4; round++) {
            var cached = cache.get(mailbox, uidValidity, uid);
            if (cached.isPresent()) {
                CacheEntry e = cached.get();
                return new Result(e.metadata().length == 1 && e.metadata()[0] == 'D'
                        ? Outcome.DECRYPTED : Outcome.UNDECRYPTABLE, e);
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> running = inFlight.putIfAbsent(key, mine);
            if (running != null) {
                await(running);
                continue;
            }
            try {
                decryptInto(key, raw);
                mine.complete(null);
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                inFlight.remove(key, mine);
            }
        }
        throw new IOException("the decrypted message does not stay in the cache (larger than its limit?)");
    }

    private void decryptInto(Key key, RawMessage raw) throws IOException {
        try (CacheEntryWriter out = cache.writer(key.mailbox(), key.uidValidity(), key.uid())) {
            DecryptedMessage m;
            try (InputStream in = raw.open()) {
                m = decryptor.decrypt(in);
            } catch (DecryptionFailedException e) {
                out.commit(UNDECRYPTABLE);
                return;
            }
            try (m) {
                if (m.kind() != DecryptedMessage.Kind.DECRYPTED || m.message().isEmpty()) {
                    out.commit(UNDECRYPTABLE);
                    return;
                }
                try (InputStream plain = m.message().get().openStream()) {
                    plain.transferTo(out);
                }
                out.commit(DECRYPTED);
            }
        }
    }

    private static void await(CompletableFuture<Void> running) throws IOException {
        try {
            running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while another session decrypted the message");
        } catch (ExecutionException e) {
            // the other session's attempt failed (its fetch, say): try again here
        }
    }
}
