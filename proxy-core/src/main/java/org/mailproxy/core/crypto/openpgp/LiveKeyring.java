package org.mailproxy.core.crypto.openpgp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The keyring in data-dir as the daemon sees it: reopened when {@code mailproxy keys import}, {@code generate} or
 * {@code delete} changed it while the daemon runs, so a contact's new key is used for the next message without a
 * restart. A change shows as a new modification time of the directory holding the certificates (adding, replacing
 * or removing a file in it sets it); checking is one {@code stat} per call.
 */
public final class LiveKeyring implements Supplier<Keyring> {
    private final Path keysDir;
    private Keyring current;
    private FileTime stamp;

    public LiveKeyring(Path keysDir) {
        this.keysDir = Objects.requireNonNull(keysDir, "keysDir");
    }

    /** The keyring as it is on disk now; throws {@link UncheckedIOException} when it cannot be read. */
    @Override
    public synchronized Keyring get() {
        try {
            Path certs = keysDir.resolve("certs");
            FileTime now = Files.exists(certs, LinkOption.NOFOLLOW_LINKS)
                    ? Files.getLastModifiedTime(certs, LinkOption.NOFOLLOW_LINKS) : FileTime.fromMillis(0);
            if (current == null || !now.equals(stamp)) {
                current = Keyring.open(keysDir);
                stamp = now;
            }
            return current;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the keyring in " + keysDir, e);
        }
    }
}
