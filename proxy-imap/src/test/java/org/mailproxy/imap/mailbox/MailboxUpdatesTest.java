package org.mailproxy.imap.mailbox;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.mailproxy.imap.codec.ImapResponseDecoder;
import org.mailproxy.imap.codec.ResponseLine;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class MailboxUpdatesTest {

    private static void feed(MailboxState state, String responses) {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapResponseDecoder(4096, 16));
        ch.writeInbound(Unpooled.copiedBuffer(responses, StandardCharsets.ISO_8859_1));
        Object m;
        while ((m = ch.readInbound()) != null) {
            if (m instanceof ResponseLine line) {
                MailboxUpdates.apply(state, line);
            }
            ReferenceCountUtil.release(m);
        }
        ch.finishAndReleaseAll();
    }

    @Test
    void followsExistsFetchExpungeAndVanished() {
        MailboxState s = new MailboxState();
        feed(s, "* 3 EXISTS\r\n* OK [UIDNEXT 9] x\r\n"
                + "* 1 FETCH (UID 4 FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS () UID 6 BODY[] {3}\r\nabc)\r\n"
                + "* 3 FETCH (BODYSTRUCTURE (\"UID\" 99) UID 8)\r\n"
                + "* 1 EXPUNGE\r\n");
        assertThat(s.size()).isEqualTo(2);
        assertThat(s.uid(1)).isEqualTo(6);
        assertThat(s.uid(2)).isEqualTo(8);
        feed(s, "* 4 EXISTS\r\n* 4 FETCH (UID 12)\r\n* 3 FETCH (UID 10)\r\n* VANISHED (EARLIER) 6:7\r\n* VANISHED 12\r\n");
        assertThat(s.size()).isEqualTo(2);
        assertThat(s.uid(1)).isEqualTo(8);
        assertThat(s.uid(2)).isEqualTo(10);
        assertThat(s.sequence(10)).isEqualTo(2);
    }
}
