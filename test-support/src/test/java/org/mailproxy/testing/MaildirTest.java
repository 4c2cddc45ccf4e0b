package org.mailproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a maildir as Dovecot writes it, without Dovecot. */
class MaildirTest {

    @TempDir
    Path root;

    @Test
    void readsNewAndCurInUidOrderWithFlags() throws IOException {
        Files.createDirectories(root.resolve("new"));
        Files.createDirectories(root.resolve("cur"));
        Files.writeString(root.resolve("dovecot-uidlist"),
                "3 V1 N3 Gabc\n2 :200.M2P1.host,S=3,W=3\n1 :100.M1P1.host,S=3,W=3\n");
        Files.writeString(root.resolve("cur/100.M1P1.host,S=3,W=3:2,FS"), "one");
        Files.writeString(root.resolve("new/200.M2P1.host,S=3,W=3"), "two");
        Files.writeString(root.resolve("new/300.M3P1.host,S=5,W=5"), "three");

        List<StoredMessage> messages = new Maildir(root).messages("INBOX");

        assertThat(messages).extracting(StoredMessage::uid).containsExactly(1L, 2L, -1L);
        assertThat(messages).extracting(StoredMessage::text).containsExactly("one", "two", "three");
        assertThat(messages.get(0).flags()).isEqualTo("FS");
        assertThat(messages.get(0).seen()).isTrue();
        assertThat(messages.get(1).seen()).isFalse();
    }

    @Test
    void mapsFoldersToMaildirPlusPlusDirectories() throws IOException {
        Files.createDirectories(root.resolve(".Archive.2026/new"));
        Files.writeString(root.resolve(".Archive.2026/new/1.M1P1.host"), "x");
        assertThat(new Maildir(root).messages("Archive/2026")).hasSize(1);
        assertThat(new Maildir(root).messages("Sent")).isEmpty();
        assertThat(Maildir.folderSuffix("inbox")).isEmpty();
    }

    @Test
    void refusesFolderNamesThatLeaveTheMaildir() {
        for (String bad : List.of("", "../x", "/etc", ".hidden", "a/../../b")) {
            assertThatThrownBy(() -> Maildir.folderSuffix(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void findsUnfoldedHeaderValues() {
        StoredMessage m = new StoredMessage(1, root.resolve("f"), "",
                "Subject: a\r\n b\r\nX-Other: c\r\n\r\nSubject: body\r\n".getBytes(StandardCharsets.UTF_8));
        assertThat(m.header("subject")).isEqualTo("a b");
        assertThat(m.header("x-other")).isEqualTo("c");
        assertThat(m.header("missing")).isNull();
    }
}
