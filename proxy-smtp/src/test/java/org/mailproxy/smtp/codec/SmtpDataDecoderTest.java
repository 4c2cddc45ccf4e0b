package org.mailproxy.smtp.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.smtp.codec.Bytes.ascii;
import static org.mailproxy.smtp.codec.Bytes.text;

class SmtpDataDecoderTest {

    /** What one decoder run produced: content, the end (or null), and where in the input the data ended. */
    record Result(String content, List<DataEnd> ends, int consumed) {
        /** Content emitted before a refusal is thrown away by the session; only the outcome counts then. */
        Result comparable() {
            return ends.size() == 1 && ends.get(0).isRefused() ? new Result("(refused)", ends, consumed) : this;
        }
    }

    private static Result decode(byte[] wire, List<int[]> pieces, int maxLine, long maxSize) {
        SmtpDataDecoder d = new SmtpDataDecoder(maxLine, maxSize);
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        List<DataEnd> ends = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        int consumed = -1;
        for (int[] p : pieces) {
            ByteBuf in = Bytes.buf(wire, p[0], p[1]);
            boolean ended = d.decode(in, out);
            List<Object> others = new ArrayList<>();
            content.writeBytes(Bytes.drain(out, others));
            others.forEach(o -> ends.add((DataEnd) o));
            if (ended) {
                consumed = p[0] + in.readerIndex();
                in.release();
                break;
            }
            assertThat(in.isReadable()).isFalse();
            in.release();
        }
        return new Result(text(content.toByteArray()), ends, consumed);
    }

    private static Result decodeWhole(String wire) {
        byte[] b = ascii(wire);
        return decode(b, List.<int[]>of(new int[]{0, b.length}), 998, 1 << 20);
    }

    /** The same input in every two-piece split, and in random splits, gives the same result. */
    private static Result decodeAllSplits(String wire, int maxLine, long maxSize) {
        byte[] b = ascii(wire);
        Result whole = decode(b, List.<int[]>of(new int[]{0, b.length}), maxLine, maxSize);
        for (int cut = 1; cut < b.length; cut++) {
            Result r = decode(b, List.of(new int[]{0, cut}, new int[]{cut, b.length}), maxLine, maxSize);
            assertThat(r.comparable()).as("split at %d of %s", cut, wire).isEqualTo(whole.comparable());
        }
        Random random = new Random(wire.hashCode());
        for (int i = 0; i < 20; i++) {
            Result r = decode(b, Bytes.randomSplits(b.length, random, 5), maxLine, maxSize);
            assertThat(r.comparable()).as("random split of %s", wire).isEqualTo(whole.comparable());
        }
        return whole;
    }

    @Test
    void endsOnCrlfDotCrlfAndUnstuffs() {
        String wire = "Subject: hi\r\n\r\n..leading dot\r\nmiddle . dot\r\n...\r\n.\r\nMAIL FROM:<next>\r\n";
        Result r = decodeAllSplits(wire, 998, 1 << 20);
        assertThat(r.content()).isEqualTo("Subject: hi\r\n\r\n.leading dot\r\nmiddle . dot\r\n..\r\n");
        assertThat(r.ends()).containsExactly(DataEnd.OK);
        assertThat(r.consumed()).isEqualTo(wire.indexOf("MAIL"));
    }

    @Test
    void emptyMessage() {
        Result r = decodeAllSplits(".\r\n", 998, 100);
        assertThat(r.content()).isEmpty();
        assertThat(r.ends()).containsExactly(DataEnd.OK);
        assertThat(r.consumed()).isEqualTo(3);
    }

    @Test
    void aLeadingSingleDotBeforeTextIsDropped() {
        // RFC 5321 4.5.2: the receiver deletes the first character when it is a period.
        Result r = decodeAllSplits(".abc\r\n.\r\n", 998, 100);
        assertThat(r.content()).isEqualTo("abc\r\n");
    }

    /**
     * SMTP smuggling (CVE-2023-51764): each variant of a fake end of data, followed by a second transaction, must
     * neither end the data early nor yield a second message; the data ends at the real CRLF.CRLF and is refused.
     */
    @ParameterizedTest
    @ValueSource(strings = {"\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r", "\r\n\0.\r\n", "\n.\r", "\r\n.\r\r\n"})
    void smugglingVariantsNeverEndDataEarly(String fakeEnd) {
        String smuggled = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: ceo\r\n\r\nsmuggled\r\n";
        String wire = "Subject: first\r\n\r\nbody" + fakeEnd + smuggled + ".\r\nQUIT\r\n";
        Result r = decodeAllSplits(wire, 998, 1 << 20);
        assertThat(r.ends()).hasSize(1);
        assertThat(r.ends().get(0).isRefused()).isTrue();
        assertThat(r.ends().get(0).refusal().get().code()).isEqualTo(554);
        assertThat(r.consumed()).isEqualTo(wire.indexOf("QUIT"));
    }

    @Test
    void nulIsRefused() {
        Result r = decodeAllSplits("a\0b\r\n.\r\n", 998, 100);
        assertThat(r.ends().get(0).refusal().get().lines().get(0)).contains("NUL");
    }

    @Test
    void bareLfAndBareCrNameTheirReason() {
        assertThat(decodeWhole("a\nb\r\n.\r\n").ends().get(0).refusal().get().lines().get(0)).contains("bare LF");
        assertThat(decodeWhole("a\rb\r\n.\r\n").ends().get(0).refusal().get().lines().get(0)).contains("bare CR");
    }

    @Test
    void linesUpTo998OctetsPassLongerAreRefused() {
        String ok = "x".repeat(998);
        assertThat(decodeAllSplits(ok + "\r\n.\r\n", 998, 1 << 20).ends()).containsExactly(DataEnd.OK);
        // A stuffed dot counts: what the client sent is 999 octets.
        assertThat(decodeWhole("." + ".".repeat(998) + "\r\n.\r\n").ends().get(0).isRefused()).isTrue();
        Result r = decodeWhole("x".repeat(999) + "\r\n.\r\n");
        assertThat(r.ends().get(0).refusal().get().lines().get(0)).contains("998");
    }

    @Test
    void messageSizeLimit() {
        String body = "0123456789\r\n".repeat(10);
        assertThat(decodeAllSplits(body + ".\r\n", 998, body.length()).ends()).containsExactly(DataEnd.OK);
        Result r = decodeAllSplits(body + ".\r\n", 998, body.length() - 1);
        assertThat(r.ends().get(0).refusal().get().code()).isEqualTo(552);
        assertThat(r.consumed()).isEqualTo(body.length() + 3);
    }

    /**
     * Exhaustive round trip over every message of up to six tokens from {".", "a", CRLF, ".."}: stuffing then
     * unstuffing gives the message back, at every split point.
     */
    @Test
    void stuffThenDecodeIsIdentityForEveryShortMessage() {
        String[] tokens = {".", "a", "\r\n", ".."};
        int count = 0;
        for (int len = 0; len <= 6; len++) {
            int combos = (int) Math.pow(tokens.length, len);
            for (int n = 0; n < combos; n++) {
                StringBuilder m = new StringBuilder();
                int k = n;
                for (int i = 0; i < len; i++) {
                    m.append(tokens[k % tokens.length]);
                    k /= tokens.length;
                }
                String content = m.toString();
                if (content.contains("\r\n\r\n\r\n\r\n")) {
                    continue;
                }
                String expected = content.isEmpty() || content.endsWith("\r\n") ? content : content + "\r\n";
                String wire = stuffed(content);
                byte[] b = ascii(wire);
                for (int cut = 0; cut <= b.length; cut++) {
                    Result r = decode(b, cut == 0 ? List.<int[]>of(new int[]{0, b.length})
                            : List.of(new int[]{0, cut}, new int[]{cut, b.length}), 998, 1 << 20);
                    assertThat(r.content()).as("content %s cut %d", content, cut).isEqualTo(expected);
                    assertThat(r.ends()).containsExactly(DataEnd.OK);
                    assertThat(r.consumed()).isEqualTo(b.length);
                }
                count++;
            }
        }
        assertThat(count).isGreaterThan(5000);
    }

    static String stuffed(String content) {
        DotStuffer s = new DotStuffer(998);
        ByteBuf in = Unpooled.copiedBuffer(ascii(content));
        ByteBuf body = s.stuff(ByteBufAllocator.DEFAULT, in);
        ByteBuf end = s.end(ByteBufAllocator.DEFAULT);
        String wire = body.toString(java.nio.charset.StandardCharsets.ISO_8859_1) + end.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        in.release();
        body.release();
        end.release();
        return wire;
    }
}
