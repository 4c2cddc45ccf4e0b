package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test helpers: text to buffers, and a byte sequence cut into pieces. */
final class Bytes {

    private Bytes() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    static ByteBuf buf(byte[] b, int from, int to) {
        return Unpooled.copiedBuffer(b, from, to - from);
    }

    /** The cut points for {@code length} octets into pieces of random sizes (1..max). */
    static List<int[]> randomSplits(int length, Random random, int max) {
        List<int[]> pieces = new ArrayList<>();
        int at = 0;
        while (at < length) {
            int n = 1 + random.nextInt(Math.max(1, Math.min(max, length - at)));
            pieces.add(new int[]{at, at + n});
            at += n;
        }
        return pieces;
    }

    static byte[] drain(List<Object> out, List<Object> others) {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (Object o : out) {
            if (o instanceof ByteBuf buf) {
                byte[] chunk = new byte[buf.readableBytes()];
                buf.readBytes(chunk);
                buf.release();
                b.writeBytes(chunk);
            } else {
                others.add(o);
            }
        }
        out.clear();
        return b.toByteArray();
    }
}
