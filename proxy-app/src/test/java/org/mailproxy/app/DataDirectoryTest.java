package org.mailproxy.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mailproxy.config.ConfigError;
import org.mailproxy.config.ConfigLoader;
import org.mailproxy.config.MailproxyConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.app.TestFiles.q;

/** SECURITY.md 23: the data directory is created owner-only, and one others can read stops the daemon. */
class DataDirectoryTest {

    @TempDir
    Path tmp;

    private MailproxyConfig config(Path dataDir) throws Exception {
        Path file = TestFiles.write(tmp, "mailproxy.conf", "mailproxy {\n  data-dir = " + q(dataDir) + "\n}\n");
        return new ConfigLoader(Map.of()).load(file);
    }

    @Test
    void missingDirectoryIsCreatedOwnerOnly() throws Exception {
        Path dir = tmp.resolve("deep/er/data");
        DataDirectory.prepare(config(dir));
        assertThat(Files.isDirectory(dir)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
    }

    @Test
    void groupReadableDirectoryIsRefusedWithTheFix() throws Exception {
        Path dir = TestFiles.dataDir(tmp);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
        assertThatThrownBy(() -> DataDirectory.prepare(config(dir)))
                .isInstanceOf(ConfigError.class)
                .hasMessage("mailproxy.conf:2: mailproxy.data-dir: " + dir + " is accessible to its group (mode rwxr-x---);"
                        + " it holds keys and mail. Fix it with: chmod -R go-rwx " + dir);
    }

    @Test
    void worldReadableFileInsideIsRefusedByName() throws Exception {
        Path dir = TestFiles.dataDir(tmp);
        Path sub = Files.createDirectory(dir.resolve("keys"));
        Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx------"));
        Path key = Files.writeString(sub.resolve("secret key.asc"), "not really a key");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> DataDirectory.prepare(config(dir)))
                .isInstanceOf(ConfigError.class)
                .hasMessageContaining(key + " is accessible to its group and other users (mode rw-r--r--)")
                .hasMessageEndingWith("chmod go-rwx '" + key + "'");
    }

    @Test
    void worldWritableFileIsRefusedToo() throws Exception {
        Path dir = TestFiles.dataDir(tmp);
        Path f = Files.writeString(dir.resolve("cache"), "x");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-----w-"));
        assertThatThrownBy(() -> DataDirectory.prepare(config(dir))).hasMessageContaining("accessible to other users");
    }

    @Test
    void ownerOnlyTreeAndGroupExecutableDirectoriesPass() throws Exception {
        Path dir = TestFiles.dataDir(tmp);
        Path sub = Files.createDirectory(dir.resolve("tls"));
        Files.setPosixFilePermissions(sub, PosixFilePermissions.fromString("rwx--x--x"));
        Path f = Files.writeString(sub.resolve("key.pem"), "x");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        // A symbolic link's own mode is always rwxrwxrwx and means nothing; it is not a finding.
        Files.createSymbolicLink(dir.resolve("link"), f);
        DataDirectory.prepare(config(dir));
    }

    @Test
    void aFileInsteadOfADirectoryIsRefused() throws Exception {
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        assertThatThrownBy(() -> DataDirectory.prepare(config(file))).hasMessageEndingWith(file + " is not a directory");
    }

    @Test
    void aDataDirBehindASymbolicLinkIsCheckedWhereItIs() throws Exception {
        Path real = TestFiles.dataDir(tmp);
        Path f = Files.writeString(real.resolve("cache"), "x");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-data"), real);
        assertThatThrownBy(() -> DataDirectory.prepare(config(link))).hasMessageContaining(real.toRealPath().resolve("cache") + " is accessible to its group");
    }
}
