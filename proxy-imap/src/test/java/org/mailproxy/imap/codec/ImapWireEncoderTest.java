package org.mailproxy.imap.codec;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.Test;
import org.mailproxy.imap.protocol.ImapVerb;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImapWireEncoderTest {

    private static CommandLine appendLine(long size) {
        return new CommandLine("mp1", ImapVerb.APPEND, Unpooled.copiedBuffer("mp1 APPEND INBOX ", StandardCharsets.US_ASCII),
                true, LiteralSpec.sync(size));
    }

    @Test
    void chunkBeyondTheCountFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapWireEncoder());
        ch.writeOutbound(appendLine(3));
        assertThatThrownBy(() -> ch.writeOutbound(new LiteralChunk(Unpooled.copiedBuffer("abcd", StandardCharsets.US_ASCII), true)))
                .isInstanceOf(EncoderException.class);
        ch.finishAndReleaseAll();
    }

    @Test
    void lastChunkShortOfTheCountFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapWireEncoder());
        ch.writeOutbound(appendLine(5));
        assertThatThrownBy(() -> ch.writeOutbound(new LiteralChunk(Unpooled.copiedBuffer("abcd", StandardCharsets.US_ASCII), true)))
                .isInstanceOf(EncoderException.class);
        ch.finishAndReleaseAll();
    }

    @Test
    void lineInsideALiteralFails() {
        EmbeddedChannel ch = new EmbeddedChannel(new ImapWireEncoder());
        ch.writeOutbound(appendLine(5));
        assertThatThrownBy(() -> ch.writeOutbound(Unpooled.copiedBuffer("* OK\r\n", StandardCharsets.US_ASCII)))
                .isInstanceOf(EncoderException.class);
        ch.finishAndReleaseAll();
    }
}
