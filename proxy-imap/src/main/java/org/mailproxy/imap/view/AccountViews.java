package org.mailproxy.imap.view;

import org.mailproxy.config.ImapSettings;
import org.mailproxy.core.cache.MessageCache;
import org.mailproxy.core.crypto.openpgp.AccountKeys;
import org.mailproxy.core.crypto.openpgp.Decryptor;
import org.mailproxy.core.crypto.openpgp.DetachedVerifier;
import org.mailproxy.core.crypto.openpgp.Keyring;
import org.mailproxy.core.crypto.openpgp.LiveKeyring;
import org.mailproxy.core.crypto.openpgp.OpenPgpLimits;
import org.mailproxy.core.crypto.openpgp.UnlockedKey;
import org.mailproxy.core.mime.PgpMimeDecryptor;
import org.mailproxy.imap.append.DraftEncryptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The decrypted view of every account whose key is unlocked: one {@link DecryptedMessages} per account (its cache
 * under {@code data-dir/cache}, opened on first use and shared by the account's sessions) and one bounded pool of
 * threads that make views, so that decrypting never runs on an event loop and a cold listing of a large folder
 * cannot take more than {@code threads} cores from the other sessions.
 */
public final class AccountViews implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AccountViews.class);

    private final Path cacheRoot;
    private final Path keysDir;
    private final AccountKeys keys;
    private final long maxCacheBytes;
    private final LiveKeyring keyring;
    private final ExecutorService workers;
    private final Map<String, DecryptedMessages> open = new HashMap<>();
    private final DraftEncryptor drafts;

    /**
     * @param threads       how many messages are decrypted at once, over all sessions
     * @param maxCacheBytes bound on each account's cache
     */
    public AccountViews(Path dataDir, AccountKeys keys, int threads, long maxCacheBytes, ImapSettings.Limits limits) {
        this.drafts = DraftEncryptor.forDaemon(dataDir.resolve("keys"), limits);
        this.cacheRoot = dataDir.resolve("cache");
        this.keysDir = dataDir.resolve("keys");
        this.keys = keys;
        this.maxCacheBytes = maxCacheBytes;
        this.keyring = new LiveKeyring(keysDir);
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "imap-view-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.workers = pool;
    }

    /** Encrypts what clients APPEND to Drafts and Sent. */
    public DraftEncryptor drafts() {
        return drafts;
    }

    /** The account's own key for its drafts, if it has one. */
    public Optional<DraftEncryptor.OwnKey> ownKey(String email) {
        return DraftEncryptor.ownKey(keys, email);
    }

    /** Where views are made (never an event loop). */
    public ExecutorService workers() {
        return workers;
    }

    /**
     * The view of {@code email}'s messages, or empty when the account has no unlocked key (its mail is then relayed
     * as stored: nothing can be decrypted, and nothing is cached).
     */
    public synchronized Optional<DecryptedMessages> forAccount(String email) {
        String k = email.toLowerCase(Locale.ROOT);
        DecryptedMessages existing = open.get(k);
        if (existing != null) {
            return Optional.of(existing);
        }
        Optional<UnlockedKey> key = keys.key(email);
        if (key.isEmpty()) {
            return Optional.empty();
        }
        try {
            Keyring ring = keyring.get();
            MessageCache cache = MessageCache.open(MessageCache.directoryFor(cacheRoot, email), ring, key.get(),
                    maxCacheBytes, MessageCache.DEFAULT_MAX_METADATA_BYTES);
            UnlockedKey own = key.get();
            // built per message on the live keyring: a contact's certificate imported while the daemon runs
            // verifies that contact's signatures from the next message on
            DecryptedMessages views = new DecryptedMessages(cache, () -> {
                Keyring current = keyring.get();
                return new PgpMimeDecryptor(new Decryptor(current, List.of(own), OpenPgpLimits.DEFAULTS, null),
                        new DetachedVerifier(current), OpenPgpLimits.DEFAULTS, null);
            });
            open.put(k, views);
            return Optional.of(views);
        } catch (IOException | RuntimeException e) {
            log.warn("imap view for an account unavailable: {}", e.toString());
            return Optional.empty();
        }
    }

    @Override
    public synchronized void close() {
        workers.shutdownNow();
        for (DecryptedMessages v : open.values()) {
            try {
                v.cache().close();
            } catch (IOException e) {
                log.debug("closing a message cache: {}", e.toString());
            }
        }
        open.clear();
    }
}
