package org.mailproxy.imap.append;

import org.junit.jupiter.api.Test;
import org.mailproxy.config.ImapSettings.EncryptAppends;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class AppendFoldersTest {

    private static AppendFolders defaults() {
        return new AppendFolders(EncryptAppends.DEFAULT);
    }

    @Test
    void draftsAndSentAreFoundBySpecialUseFromListResponses() {
        AppendFolders f = defaults();
        assertThat(f.encrypts("Drafts")).isFalse();
        f.observeList(List.of("\\HasNoChildren"), "INBOX");
        f.observeList(List.of("\\HasNoChildren", "\\Drafts"), "Entw&APw-rfe");
        f.observeList(List.of("\\sent", "\\HasNoChildren"), "Gesendet");
        f.observeList(List.of("\\Trash"), "Papierkorb");
        f.observeList(List.of(), "Drafts");
        assertThat(f.encrypts("Entw&APw-rfe")).isTrue();
        assertThat(f.encrypts("Gesendet")).isTrue();
        assertThat(f.encrypts("gesendet")).as("only INBOX is case-insensitive").isFalse();
        assertThat(f.encrypts("Papierkorb")).isFalse();
        assertThat(f.encrypts("Drafts")).as("a name is not a role").isFalse();
        assertThat(f.encrypts("INBOX")).isFalse();
        assertThat(f.specialUse("Gesendet")).containsExactly("\\sent");
    }

    @Test
    void aListWithoutAttributesKeepsWhatWasLearnedAndNonExistentForgets() {
        AppendFolders f = defaults();
        f.observeList(List.of("\\Drafts"), "Drafts");
        f.observeList(List.of("\\HasNoChildren"), "Drafts"); // a plain LIST need not repeat them
        assertThat(f.encrypts("Drafts")).isTrue();
        f.observeList(List.of("\\Archive"), "Drafts"); // the server moved the role
        assertThat(f.encrypts("Drafts")).isFalse();
        f.observeList(List.of("\\Drafts"), "Drafts");
        f.observeList(List.of("\\NonExistent"), "Drafts");
        assertThat(f.encrypts("Drafts")).isFalse();
    }

    @Test
    void renameMovesTheRoleAndDeleteForgetsIt() {
        AppendFolders f = defaults();
        f.observeList(List.of("\\Sent"), "Sent");
        f.renamed("Sent", "Sent Messages");
        assertThat(f.encrypts("Sent")).isFalse();
        assertThat(f.encrypts("Sent Messages")).isTrue();
        f.forget("Sent Messages");
        assertThat(f.encrypts("Sent Messages")).isFalse();
    }

    @Test
    void configuredNamesWithInboxInAnyCaseAndNonAsciiInModifiedUtf7() {
        AppendFolders f = new AppendFolders(new EncryptAppends(List.of(), List.of("Sent Items", "inbox", "Entwürfe")));
        assertThat(f.needsDiscovery()).as("no attribute configured: nothing to learn").isFalse();
        assertThat(f.encrypts("Sent Items")).isTrue();
        assertThat(f.encrypts("sent items")).isFalse();
        assertThat(f.encrypts("InBoX")).isTrue();
        assertThat(f.encrypts("Entw&APw-rfe")).as("as the server writes it").isTrue();
        assertThat(f.encrypts("Entwürfe")).as("as written under UTF8=ACCEPT").isTrue();
        f.observeList(List.of("\\Drafts"), "Drafts");
        assertThat(f.encrypts("Drafts")).as("no SPECIAL-USE configured").isFalse();
    }

    @Test
    void offEncryptsNothing() {
        AppendFolders f = new AppendFolders(new EncryptAppends(List.of(), List.of()));
        f.observeList(List.of("\\Drafts"), "Drafts");
        assertThat(f.encrypts("Drafts")).isFalse();
        assertThat(f.needsDiscovery()).isFalse();
    }

    @Test
    void xlistAttributesCount() {
        AppendFolders f = new AppendFolders(new EncryptAppends(List.of("\\Drafts", "\\Junk", "\\All"), List.of()));
        f.observeList(List.of("\\HasNoChildren", "\\Drafts"), "[Gmail]/Drafts");
        f.observeList(List.of("\\Spam"), "[Gmail]/Spam");
        f.observeList(List.of("\\AllMail"), "[Gmail]/All Mail");
        f.observeList(List.of("\\Inbox"), "Inbox");
        assertThat(f.encrypts("[Gmail]/Drafts")).isTrue();
        assertThat(f.encrypts("[Gmail]/Spam")).isTrue();
        assertThat(f.encrypts("[Gmail]/All Mail")).isTrue();
        assertThat(f.encrypts("INBOX")).isFalse();
    }

    @Test
    void discoveryIsNeededOnceAndTheCommandFollowsTheCapabilities() {
        AppendFolders f = defaults();
        assertThat(f.needsDiscovery()).isTrue();
        f.discovered();
        assertThat(f.needsDiscovery()).isFalse();
        assertThat(AppendFolders.discoveryCommand(Set.of("IMAP4rev1", "LIST-EXTENDED", "special-use")))
                .contains("LIST (SPECIAL-USE) \"\" \"*\"");
        assertThat(AppendFolders.discoveryCommand(Set.of("IMAP4rev1", "SPECIAL-USE"))).contains("LIST \"\" \"*\"");
        assertThat(AppendFolders.discoveryCommand(Set.of("IMAP4rev1", "XLIST"))).contains("XLIST \"\" \"*\"");
        assertThat(AppendFolders.discoveryCommand(Set.of("IMAP4rev1", "LIST-EXTENDED"))).isEmpty();
    }

    @Test
    void modifiedUtf7AsRfc9051Writes() {
        assertThat(AppendFolders.ModifiedUtf7.encode("~peter/mail/台北/日本語"))
                .isEqualTo("~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assertThat(AppendFolders.ModifiedUtf7.encode("Tom & Jerry")).isEqualTo("Tom &- Jerry");
        assertThat(AppendFolders.ModifiedUtf7.encode("Entwürfe")).isEqualTo("Entw&APw-rfe");
        assertThat(AppendFolders.ModifiedUtf7.encode("Drafts")).isEqualTo("Drafts");
    }
}
