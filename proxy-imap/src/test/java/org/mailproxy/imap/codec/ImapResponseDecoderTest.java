package org.mailproxy.imap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.imap.codec.Transcript.ascii;

class ImapResponseDecoderTest {

    private static ImapResponseDecoder decoder() {
        return new ImapResponseDecoder(1024, 8);
    }

    private static List<String> decodeAllWays(String input) {
        byte[] bytes = ascii(input);
        List<String> whole = Transcript.decode(ImapResponseDecoderTest::decoder, bytes);
        for (List<Integer> split : Transcript.randomSplits(bytes.length, input.hashCode(), 20)) {
            assertThat(Transcript.decode(ImapResponseDecoderTest::decoder, bytes, split)).as("split %s", split).isEqualTo(whole);
        }
        return whole;
    }

    @Test
    void statusResponsesWithCodesAndText() {
        assertThat(decodeAllWays("* OK [CAPABILITY IMAP4rev1 IDLE] Dovecot ready.\r\nmp1 NO [TRYCREATE] No such mailbox\r\n"
                + "* BYE Logging out\r\n+ idling\r\n+\r\n")).containsExactly(
                "RSP UNTAGGED OK code=CAPABILITY IMAP4rev1 IDLE text=Dovecot ready. |* OK [CAPABILITY IMAP4rev1 IDLE] Dovecot ready.|",
                "RSP TAGGED mp1 NO code=TRYCREATE text=No such mailbox |mp1 NO [TRYCREATE] No such mailbox|",
                "RSP UNTAGGED BYE text=Logging out |* BYE Logging out|",
                "RSP CONTINUATION + text=idling |+ idling|",
                "RSP CONTINUATION + text= |+|");
    }

    @Test
    void statusTextMayHoldAnythingButIsNeverALiteral() {
        assertThat(decodeAllWays("* OK unbalanced ( \"quote {5}\r\nmp2 OK done\r\n")).containsExactly(
                "RSP UNTAGGED OK text=unbalanced ( \"quote {5} |* OK unbalanced ( \"quote {5}|",
                "RSP TAGGED mp2 OK text=done |mp2 OK done|");
    }

    @Test
    void dataResponsesAreTokenized() {
        assertThat(decodeAllWays("* 23 EXISTS\r\n* CAPABILITY IMAP4rev1 LITERAL+ IDLE\r\n"
                + "* LIST (\\HasNoChildren) \"/\" \"a \\\"b\\\"\"\r\n")).containsExactly(
                "RSP UNTAGGED 23 EXISTS |* 23 EXISTS|",
                "RSP UNTAGGED CAPABILITY tokens=IMAP4rev1,LITERAL+,IDLE |* CAPABILITY IMAP4rev1 LITERAL+ IDLE|",
                "RSP UNTAGGED LIST tokens=(,\\HasNoChildren,),\"/\",\"a \"b\"\" |* LIST (\\HasNoChildren) \"/\" \"a \\\"b\\\"\"|");
    }

    @Test
    void fetchWithLiteralsAndNestedLists() {
        String input = "* 12 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] {19}\r\nFrom: a@b\r\nmp9 OK x"
                + " BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) \"mixed\"))\r\n"
                + "mp3 OK FETCH completed\r\n";
        assertThat(decodeAllWays(input)).containsExactly(
                "RSP UNTAGGED 12 FETCH tokens=(,UID,7,FLAGS,(,\\Seen,),BODY[HEADER.FIELDS,(,FROM,),],{19} |* 12 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM)] | {19}",
                "LIT From: a@b\r\nmp9 OK x",
                "RSP UNTAGGED 12 FETCH + tokens=BODYSTRUCTURE,(,(,\"text\",\"plain\",NIL,NIL,NIL,\"7bit\",3,1,),(,\"text\",\"html\",NIL,NIL,NIL,\"7bit\",3,1,),\"mixed\",),) | BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1)(\"text\" \"html\" NIL NIL NIL \"7bit\" 3 1) \"mixed\"))|",
                "RSP TAGGED mp3 OK text=FETCH completed |mp3 OK FETCH completed|");
    }

    @Test
    void depthLimit() {
        assertThat(decodeAllWays("* 1 FETCH (BODYSTRUCTURE " + "(".repeat(9) + ")".repeat(9) + ")\r\n"))
                .containsExactly("RERR lists nested deeper than 8");
        assertThat(decodeAllWays("* 1 FETCH (BODYSTRUCTURE " + "(".repeat(7) + ")".repeat(7) + ")\r\n")).hasSize(1)
                .first().asString().startsWith("RSP UNTAGGED 1 FETCH");
    }

    @Test
    void depthCountsAcrossLiterals() {
        String open = "(".repeat(5);
        assertThat(decodeAllWays("* 1 FETCH " + open + "{1}\r\nx" + open + "\r\n")).containsExactly(
                "RSP UNTAGGED 1 FETCH tokens=(,(,(,(,(,{1} |* 1 FETCH (((((| {1}", "LIT x", "RERR lists nested deeper than 8");
    }

    @Test
    void malformedResponsesAreFatal() {
        assertThat(decodeAllWays("* OK a\0b\r\n")).containsExactly("RERR NUL in a response line");
        assertThat(decodeAllWays("* OK a\nmp1 OK\r\n")).containsExactly("RERR response line not ended by CRLF");
        assertThat(decodeAllWays("mp1 FETCH x\r\n")).containsExactly("RERR tagged response that is not OK, NO or BAD");
        assertThat(decodeAllWays("* LIST \"unterminated\r\n")).containsExactly("RERR unterminated quoted string");
        assertThat(decodeAllWays("* 1 FETCH (BODY[] {99999999999999999999}\r\n")).containsExactly("RERR literal size out of range");
        assertThat(decodeAllWays("* 1 FETCH (BODY[] {5+}\r\nhello)\r\n")).containsExactly("RERR non-synchronizing literal in a response");
        assertThat(decodeAllWays("* OK " + "x".repeat(1100) + "\r\n")).containsExactly("RERR response line longer than 1024 octets");
        assertThat(decodeAllWays("garbage\r\n")).containsExactly("RERR response without a name");
    }

    @Test
    void multiMegabyteBodyIsStreamed() {
        EmbeddedChannel ch = new EmbeddedChannel(decoder());
        ch.writeInbound(Unpooled.copiedBuffer("* 1 FETCH (BODY[] {3000000}\r\n", StandardCharsets.US_ASCII));
        ReferenceCountUtil.release(ch.readInbound());
        byte[] block = new byte[8192];
        long got = 0;
        for (int sent = 0; sent < 3_000_000; sent += block.length) {
            ch.writeInbound(Unpooled.wrappedBuffer(block, 0, Math.min(block.length, 3_000_000 - sent)));
            LiteralChunk c;
            while ((c = ch.readInbound()) != null) {
                got += c.content().readableBytes();
                c.release();
            }
        }
        assertThat(got).isEqualTo(3_000_000);
        ch.writeInbound(Unpooled.copiedBuffer(")\r\n", StandardCharsets.US_ASCII));
        Object end = ch.readInbound();
        assertThat(Transcript.render(end)).isEqualTo("RSP UNTAGGED 1 FETCH + tokens=) |)|");
        ReferenceCountUtil.release(end);
        ch.finishAndReleaseAll();
    }

    @Test
    void encoderRoundTripIsByteExact() {
        String input = "* 12 FETCH (UID 7 BODY[] {10}\r\n0123456789 FLAGS (\\Seen))\r\nmp3 OK [READ-WRITE] done\r\n+ go\r\n";
        EmbeddedChannel ch = new EmbeddedChannel(decoder());
        ch.writeInbound(Unpooled.copiedBuffer(input, StandardCharsets.ISO_8859_1));
        List<Object> msgs = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            msgs.add(m);
        }
        ByteBuf out = Transcript.encodeAll(msgs);
        assertThat(out.toString(StandardCharsets.ISO_8859_1)).isEqualTo(input);
        out.release();
        ch.finishAndReleaseAll();
    }
}
