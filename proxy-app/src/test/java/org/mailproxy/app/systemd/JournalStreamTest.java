package org.mailproxy.app.systemd;

import ch.qos.logback.classic.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Which log format applies, and the journal's priority prefixes. */
class JournalStreamTest {

    @TempDir
    Path tmp;

    @Test
    void theJournalFormatOnlyWhenJournalStreamNamesStderr() {
        assertThat(JournalStream.format(Map.of(), Optional.of("8:42"))).isEqualTo("STDERR");
        assertThat(JournalStream.format(Map.of("JOURNAL_STREAM", ""), Optional.of("8:42"))).isEqualTo("STDERR");
        assertThat(JournalStream.format(Map.of("JOURNAL_STREAM", "8:42"), Optional.of("8:42"))).isEqualTo("JOURNAL");
        // Inherited by a process whose stderr was redirected elsewhere.
        assertThat(JournalStream.format(Map.of("JOURNAL_STREAM", "8:42"), Optional.of("8:43"))).isEqualTo("STDERR");
        assertThat(JournalStream.format(Map.of("JOURNAL_STREAM", "8:42"), Optional.empty())).isEqualTo("STDERR");
    }

    @Test
    void identityIsDeviceAndInode() throws Exception {
        Path file = Files.createFile(tmp.resolve("f"));
        assertThat(JournalStream.identity(file)).contains(
                Files.getAttribute(file, "unix:dev") + ":" + Files.getAttribute(file, "unix:ino"));
        assertThat(JournalStream.identity(tmp.resolve("missing"))).isEmpty();
    }

    @Test
    void levelsMapToSyslogPriorities() {
        assertThat(JournalPriority.prefix(Level.ERROR)).isEqualTo("<3>");
        assertThat(JournalPriority.prefix(Level.WARN)).isEqualTo("<4>");
        assertThat(JournalPriority.prefix(Level.INFO)).isEqualTo("<6>");
        assertThat(JournalPriority.prefix(Level.DEBUG)).isEqualTo("<7>");
        assertThat(JournalPriority.prefix(Level.TRACE)).isEqualTo("<7>");
    }
}
