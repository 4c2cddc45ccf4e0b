package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the upstream's replies (RFC 5321 4.2): lines {@code ddd-text} up to a last line {@code ddd text}, all with
 * the same code, into one {@link SmtpReply}. Control characters in the text become spaces, so nothing the upstream
 * says can add a line to what the client sees. A malformed or over-long reply throws {@link DecoderException}: the
 * upstream is then not speaking SMTP and the session ends.
 *
 * <table>
 *   <caption>Limits</caption>
 *   <tr><th>maxLineLength</th><td>octets of one reply line; RFC 5321 4.5.3.1.5 says 512.</td></tr>
 *   <tr><th>maxLines</th><td>lines of one reply (an EHLO reply has one per extension).</td></tr>
 * </table>
 */
public final class SmtpReplyDecoder extends ByteToMessageDecoder {

    private final int maxLineLength;
    private final int maxLines;
    private final List<String> lines = new ArrayList<>();
    private int code = -1;

    public SmtpReplyDecoder(int maxLineLength, int maxLines) {
        this.maxLineLength = maxLineLength;
        this.maxLines = maxLines;
    }

    /** Octets received after the last complete reply; after a STARTTLS reply these are injected (SECURITY.md 10). */
    public int bufferedBytes() {
        return actualReadableBytes();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            int lf = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            if (lf < 0) {
                if (in.readableBytes() > maxLineLength) {
                    throw new DecoderException("upstream reply line longer than " + maxLineLength + " octets");
                }
                return;
            }
            int length = lf - in.readerIndex();
            if (length > maxLineLength) {
                throw new DecoderException("upstream reply line longer than " + maxLineLength + " octets");
            }
            int textEnd = length > 0 && in.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            String line = in.toString(in.readerIndex(), textEnd - in.readerIndex(), StandardCharsets.ISO_8859_1);
            in.readerIndex(lf + 1);
            if (line.length() < 3 || !isDigits(line) || line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-') {
                throw new DecoderException("upstream sent a line that is not an SMTP reply");
            }
            int lineCode = Integer.parseInt(line.substring(0, 3));
            if (lineCode < 200 || lineCode > 599 || code >= 0 && lineCode != code) {
                throw new DecoderException("upstream sent an SMTP reply with a bad code");
            }
            code = lineCode;
            if (lines.size() >= maxLines) {
                throw new DecoderException("upstream reply has more than " + maxLines + " lines");
            }
            lines.add(line.length() > 4 ? clean(line.substring(4)) : "");
            boolean last = line.length() == 3 || line.charAt(3) == ' ';
            if (last) {
                out.add(new SmtpReply(code, lines));
                lines.clear();
                code = -1;
                return;
            }
        }
    }

    private static boolean isDigits(String line) {
        return Character.isDigit(line.charAt(0)) && Character.isDigit(line.charAt(1)) && Character.isDigit(line.charAt(2))
                && line.charAt(0) < 128 && line.charAt(1) < 128 && line.charAt(2) < 128;
    }

    private static String clean(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return b.toString();
    }
}
