package org.mailproxy.imap.mailbox;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MailboxStateTest {

    @Test
    void existsFetchExpunge() {
        MailboxState m = new MailboxState();
        m.exists(4);
        assertThat(m.uid(1)).isZero();
        m.fetched(1, 10);
        m.fetched(2, 11);
        m.fetched(3, 15);
        m.fetched(4, 4_000_000_000L);
        m.expunge(2);
        assertThat(m.size()).isEqualTo(3);
        assertThat(m.uid(2)).isEqualTo(15);
        assertThat(m.uid(3)).isEqualTo(4_000_000_000L);
        assertThat(m.sequence(4_000_000_000L)).isEqualTo(3);
        assertThat(m.sequence(11)).isZero();
        m.exists(4);
        assertThat(m.uid(4)).isZero();
        m.fetched(4, 4_000_000_001L);
        assertThat(m.sequence(4_000_000_001L)).isEqualTo(4);
    }

    @Test
    void vanishedRemovesByUid() {
        MailboxState m = new MailboxState();
        for (int i = 1; i <= 6; i++) {
            m.fetched(i, i * 10L);
        }
        m.vanished("20:30,50");
        assertThat(m.size()).isEqualTo(3);
        assertThat(m.uid(1)).isEqualTo(10);
        assertThat(m.uid(2)).isEqualTo(40);
        assertThat(m.uid(3)).isEqualTo(60);
    }

    @Test
    void outOfRangeInputIsIgnored() {
        MailboxState m = new MailboxState();
        m.expunge(1);
        m.expunge(-3);
        m.fetched(0, 5);
        m.fetched(1, 0x1_0000_0000L);
        m.exists(-1);
        m.vanished("x:y");
        assertThat(m.size()).isZero();
        assertThat(m.uid(1)).isZero();
        m.exists(2);
        m.fetched(2, 7);
        m.vanished("x:y");
        assertThat(m.uid(2)).isEqualTo(7);
        m.reset();
        assertThat(m.size()).isZero();
    }
}
