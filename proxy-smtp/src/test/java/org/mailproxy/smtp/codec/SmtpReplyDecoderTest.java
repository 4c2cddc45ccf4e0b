package org.mailproxy.smtp.codec;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mailproxy.smtp.codec.Bytes.ascii;

class SmtpReplyDecoderTest {

    @Test
    void multiLineRepliesInEverySplit() {
        byte[] wire = ascii("250-smtp.example.com\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 SMTPUTF8\r\n550 5.1.1 <x@example.com>: unknown\r\n334 \r\n");
        for (int cut = 0; cut < wire.length; cut++) {
            EmbeddedChannel ch = new EmbeddedChannel(new SmtpReplyDecoder(512, 100));
            if (cut > 0) {
                ch.writeInbound(Unpooled.copiedBuffer(wire, 0, cut));
            }
            ch.writeInbound(Unpooled.copiedBuffer(wire, cut, wire.length - cut));
            SmtpReply ehlo = ch.readInbound();
            SmtpReply refused = ch.readInbound();
            SmtpReply challenge = ch.readInbound();
            assertThat(ehlo.code()).isEqualTo(250);
            assertThat(ehlo.lines()).containsExactly("smtp.example.com", "PIPELINING", "SIZE 35882577", "SMTPUTF8");
            assertThat(refused.code()).isEqualTo(550);
            assertThat(refused.enhancedCode()).contains("5.1.1");
            assertThat(challenge).isEqualTo(new SmtpReply(334, List.of("")));
            assertThat(SmtpReplyEncoder.toWire(ehlo)).isEqualTo(ascii("250-smtp.example.com\r\n250-PIPELINING\r\n250-SIZE 35882577\r\n250 SMTPUTF8\r\n"));
        }
    }

    @Test
    void malformedRepliesFail() {
        for (String bad : new String[]{"hello\r\n", "25\r\n", "250-a\r\n251 b\r\n", "250xtext\r\n", "999 x\r\n", "x".repeat(600)}) {
            EmbeddedChannel ch = new EmbeddedChannel(new SmtpReplyDecoder(512, 100));
            assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer(ascii(bad)))).isInstanceOf(DecoderException.class);
        }
        EmbeddedChannel ch = new EmbeddedChannel(new SmtpReplyDecoder(512, 3));
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer(ascii("250-a\r\n250-b\r\n250-c\r\n250 d\r\n"))))
                .isInstanceOf(DecoderException.class);
    }

    @Test
    void controlCharactersInTextCannotAddLines() {
        EmbeddedChannel ch = new EmbeddedChannel(new SmtpReplyDecoder(512, 10));
        ch.writeInbound(Unpooled.copiedBuffer(ascii("250 ok\rinjected\0x\r\n")));
        SmtpReply r = ch.readInbound();
        assertThat(r.lines()).containsExactly("ok injected x");
    }
}
