package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes {@link SmtpReply} values to the client: {@code code-text} for all lines but the last, {@code code text}
 * for the last (RFC 5321 4.2.1). The one place replies become bytes. Stateless, so shared.
 */
@Sharable
public final class SmtpReplyEncoder extends MessageToByteEncoder<SmtpReply> {

    public static final SmtpReplyEncoder INSTANCE = new SmtpReplyEncoder();

    private SmtpReplyEncoder() {
        super(SmtpReply.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, SmtpReply reply, ByteBuf out) {
        out.writeBytes(toWire(reply));
    }

    public static byte[] toWire(SmtpReply reply) {
        StringBuilder b = new StringBuilder();
        List<String> lines = reply.lines();
        for (int i = 0; i < lines.size(); i++) {
            b.append(reply.code()).append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i)).append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
}
