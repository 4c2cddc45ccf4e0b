package org.mailproxy.core.crypto.openpgp;

import org.bouncycastle.openpgp.PGPException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The unlocked secret key of each configured account, for the IMAP side to decrypt and the SMTP side to sign with.
 * Keys start locked; {@link #unlock} reads the passphrase from a {@link PassphraseSource} (a file or systemd
 * credential at daemon start, or what {@code mailproxy keys unlock} typed), unlocks, and keeps the key in memory
 * until {@link #close()}.
 *
 * <p>Which key is an account's: the configured fingerprint, or else the single secret key in the keyring whose
 * validly self-signed user ID carries the account's address (when no key is valid now, the single expired or
 * revoked one, which still decrypts old mail). None or several is a {@link KeyException} naming what to do, raised
 * when the key is unlocked. The keyring is read afresh on every {@link #unlock} and {@link #status},
 * so a key generated or imported with {@code mailproxy keys} while the daemon runs is found without a restart.
 *
 * <p>Thread-safe: lookups are lock-free; unlocking is serialized (it is rare and slow on purpose: S2K).
 * A wrong passphrase is reported as just that, without the underlying cause (SECURITY.md 24).
 */
public final class AccountKeys implements AutoCloseable {

    /** What an account's key is like now. */
    public enum State {
        /** the address is not a configured account */
        NO_SUCH_ACCOUNT,
        /** no secret key for the account: decrypting and signing are unavailable */
        NO_SECRET_KEY,
        /** several secret keys carry the address and none is configured */
        SEVERAL_KEYS,
        LOCKED,
        UNLOCKED
    }

    /** Why {@link #unlock} failed, for callers that answer in a protocol rather than in words. */
    public enum Failure {
        NO_SUCH_ACCOUNT, NO_SECRET_KEY, SEVERAL_KEYS, PASSPHRASE_UNREADABLE, WRONG_PASSPHRASE
    }

    /**
     * One account's state.
     *
     * @param fingerprint the key's fingerprint when it is known (locked or unlocked)
     * @param detail      a sentence for a person when the state needs explaining, else empty
     */
    public record Status(String email, State state, Optional<String> fingerprint, String detail) {
    }

    private final Path keysDir;
    /** Lower-case address to configured fingerprint, in configuration order. */
    private final Map<String, Optional<String>> accounts;
    private final Map<String, UnlockedKey> unlocked = new ConcurrentHashMap<>();
    private final Object unlocking = new Object();

    private AccountKeys(Path keysDir, Map<String, Optional<String>> accounts) {
        this.keysDir = keysDir;
        this.accounts = accounts;
    }

    /** No accounts and no keyring: every key is absent. For contexts that never decrypt (checks, tests). */
    public static AccountKeys empty() {
        return new AccountKeys(null, Map.of());
    }

    /**
     * The registry for {@code accounts} (address to configured fingerprint, empty for "find by address") over the
     * keyring in {@code keysDir}, which is opened once here so that a keyring others can read fails now
     * (SECURITY.md 23).
     */
    public static AccountKeys open(Path keysDir, Map<String, Optional<String>> accounts) throws IOException {
        Objects.requireNonNull(keysDir, "keysDir");
        Keyring.open(keysDir);
        Map<String, Optional<String>> copy = new LinkedHashMap<>();
        accounts.forEach((email, fpr) -> copy.put(email.toLowerCase(Locale.ROOT), fpr));
        return new AccountKeys(keysDir, Collections.unmodifiableMap(copy));
    }

    /** The configured addresses (lower case), in configuration order. */
    public List<String> accounts() {
        return List.copyOf(accounts.keySet());
    }

    /** The account's unlocked key, if it has been unlocked. */
    public Optional<UnlockedKey> key(String email) {
        return email == null ? Optional.empty() : Optional.ofNullable(unlocked.get(email.toLowerCase(Locale.ROOT)));
    }

    public boolean isUnlocked(String email) {
        return key(email).isPresent();
    }

    /** The state of one account's key; reads the keyring unless the key is unlocked. */
    public Status status(String email) {
        String addr = email.toLowerCase(Locale.ROOT);
        UnlockedKey k = unlocked.get(addr);
        if (k != null) {
            return new Status(addr, State.UNLOCKED, Optional.of(k.fingerprint()), "");
        }
        if (!accounts.containsKey(addr)) {
            return new Status(addr, State.NO_SUCH_ACCOUNT, Optional.empty(), "no account " + addr + " is configured");
        }
        try {
            return new Status(addr, State.LOCKED, Optional.of(resolve(Keyring.open(keysDir), addr)), "");
        } catch (Unresolved e) {
            return new Status(addr, e.state, Optional.empty(), e.getMessage());
        } catch (IOException e) {
            return new Status(addr, State.NO_SECRET_KEY, Optional.empty(), "cannot read the keyring: " + e.getMessage());
        }
    }

    /** The state of every configured account, in configuration order. */
    public List<Status> statuses() {
        List<Status> out = new ArrayList<>();
        for (String a : accounts.keySet()) {
            out.add(status(a));
        }
        return out;
    }

    /**
     * Unlocks the account's key with the passphrase from {@code source} and keeps it; a key unlocked before is
     * replaced (so this also checks a passphrase). The passphrase is wiped after use.
     *
     * @throws KeyException with a message for a person; {@link #failure} tells which case it was
     */
    public UnlockedKey unlock(String email, PassphraseSource source) throws KeyException {
        String addr = email.toLowerCase(Locale.ROOT);
        if (!accounts.containsKey(addr)) {
            throw failed(Failure.NO_SUCH_ACCOUNT, "no account " + addr + " is configured");
        }
        synchronized (unlocking) {
            Keyring ring;
            String fpr;
            try {
                ring = Keyring.open(keysDir);
                fpr = resolve(ring, addr);
            } catch (Unresolved e) {
                throw failed(e.state == State.SEVERAL_KEYS ? Failure.SEVERAL_KEYS : Failure.NO_SECRET_KEY,
                        e.getMessage());
            } catch (IOException e) {
                throw failed(Failure.NO_SECRET_KEY, "account " + addr + ": cannot read the keyring: " + e.getMessage());
            }
            char[] pass;
            try {
                pass = source.passphrase();
            } catch (IOException e) {
                throw failed(Failure.PASSPHRASE_UNREADABLE,
                        "account " + addr + ": cannot read the passphrase: " + e.getMessage());
            }
            UnlockedKey key;
            try {
                // the keyring wipes the copy it is handed; no other copy is made
                key = ring.unlock(fpr, pass::clone);
            } catch (KeyException e) {
                if (e.getCause() instanceof PGPException) {
                    throw failed(Failure.WRONG_PASSPHRASE, "account " + addr + ": wrong passphrase for key " + fpr);
                }
                throw failed(Failure.NO_SECRET_KEY, "account " + addr + ": " + e.getMessage());
            } finally {
                Arrays.fill(pass, '\0');
            }
            UnlockedKey before = unlocked.put(addr, key);
            if (before != null && before != key) {
                before.close();
            }
            return key;
        }
    }

    /** Which case a {@link KeyException} from {@link #unlock} was; empty for one from elsewhere. */
    public static Optional<Failure> failure(KeyException e) {
        return e.getCause() instanceof Reason r ? Optional.of(r.failure) : Optional.empty();
    }

    /** Drops every unlocked key (their private key objects become unreachable). */
    @Override
    public void close() {
        for (String a : List.copyOf(unlocked.keySet())) {
            UnlockedKey k = unlocked.remove(a);
            if (k != null) {
                k.close();
            }
        }
    }

    private String resolve(Keyring ring, String addr) throws Unresolved {
        Optional<String> configured = accounts.get(addr);
        if (configured.isPresent()) {
            Optional<KeyInfo> k = ring.find(configured.get());
            if (k.isEmpty() || !k.get().secret()) {
                throw new Unresolved(State.NO_SECRET_KEY, "account " + addr + ": key.fingerprint " + configured.get()
                        + (k.isEmpty() ? " is not in the keyring" : " has no secret key in the keyring")
                        + "; see mailproxy keys list");
            }
            return k.get().fingerprint();
        }
        List<String> secret = new ArrayList<>();
        for (String fpr : ring.fingerprintsFor(addr)) {
            if (ring.find(fpr).map(KeyInfo::secret).orElse(false)) {
                secret.add(fpr);
            }
        }
        if (secret.isEmpty()) {
            // No key valid now: an expired (or revoked) one still decrypts the mail that was sent to it.
            for (KeyInfo k : ring.list()) {
                if (k.secret() && k.userIds().stream().anyMatch(u -> Keyring.addressOf(u).equals(addr))) {
                    secret.add(k.fingerprint());
                }
            }
        }
        if (secret.isEmpty()) {
            throw new Unresolved(State.NO_SECRET_KEY, "account " + addr + ": no secret key with a user ID for "
                    + addr + "; create one with mailproxy keys generate --email " + addr + " or import one");
        }
        if (secret.size() > 1) {
            throw new Unresolved(State.SEVERAL_KEYS, "account " + addr + ": " + secret.size() + " secret keys carry "
                    + addr + " (" + String.join(", ", secret) + "); choose one with key.fingerprint in the account");
        }
        return secret.get(0);
    }

    private static KeyException failed(Failure failure, String message) {
        return new KeyException(message, new Reason(failure));
    }

    /** Carries the {@link Failure} as the cause of a {@link KeyException}; no message, no stack. */
    private static final class Reason extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Failure failure;

        Reason(Failure failure) {
            super(null, null, false, false);
            this.failure = failure;
        }
    }

    private static final class Unresolved extends Exception {
        private static final long serialVersionUID = 1L;
        final transient State state;

        Unresolved(State state, String message) {
            super(message, null, false, false);
            this.state = state;
        }
    }
}
