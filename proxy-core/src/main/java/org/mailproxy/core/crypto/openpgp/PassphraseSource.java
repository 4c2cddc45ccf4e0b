package org.mailproxy.core.crypto.openpgp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where the account's secret-key passphrase comes from. Never argv and never the environment (SECURITY.md 23): a
 * file, a systemd credential ({@code $CREDENTIALS_DIRECTORY/<name>}, systemd.exec(5) "Credentials"), or characters
 * typed at {@code mailproxy keys unlock}. One trailing newline of a file is dropped.
 */
@FunctionalInterface
public interface PassphraseSource {

    /** A fresh copy of the passphrase; the caller wipes it after use. */
    char[] passphrase() throws IOException;

    static PassphraseSource ofChars(char[] chars) {
        char[] copy = chars.clone();
        return copy::clone;
    }

    static PassphraseSource fromFile(Path file) {
        Objects.requireNonNull(file);
        return () -> read(file);
    }

    /** Reads credential {@code name} from the directory systemd passes in {@code CREDENTIALS_DIRECTORY}. */
    static PassphraseSource systemdCredential(String name) {
        return systemdCredential(System.getenv("CREDENTIALS_DIRECTORY"), name);
    }

    static PassphraseSource systemdCredential(String credentialsDirectory, String name) {
        if (name.contains("/") || name.isEmpty()) {
            throw new IllegalArgumentException("credential name must be a plain file name");
        }
        return () -> {
            if (credentialsDirectory == null || credentialsDirectory.isEmpty()) {
                throw new IOException("CREDENTIALS_DIRECTORY is not set; is the service started with LoadCredential=?");
            }
            return read(Path.of(credentialsDirectory, name));
        };
    }

    private static char[] read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            int end = bytes.length;
            if (end > 0 && bytes[end - 1] == '\n') {
                end--;
            }
            if (end > 0 && bytes[end - 1] == '\r') {
                end--;
            }
            CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(bytes, 0, end));
            char[] out = new char[cb.remaining()];
            cb.get(out);
            Arrays.fill(cb.array(), '\0');
            return out;
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }
}
