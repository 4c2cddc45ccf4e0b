package org.mailproxy.imap.view;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mailproxy.imap.view.StructureSamples.crlf;

/**
 * Large messages parse in memory that does not grow with them: the messages here are generated while being read
 * (never held whole), and the parser keeps only offsets, counts and header sections, so a 60 MB attachment or a
 * 16 MB line without a line break costs the same as a small one.
 */
class MessageStructureLargeTest {

    private static final byte[] HEAD = crlf("""
            From: alice@example.test
            Subject: sixty megabytes
            MIME-Version: 1.0
            Content-Type: multipart/mixed; boundary="large"

            --large
            Content-Type: text/plain

            The attachment follows.
            --large
            Content-Type: application/octet-stream; name="big.bin"
            Content-Transfer-Encoding: base64
            Content-Disposition: attachment; filename="big.bin"

            """);

    private static final byte[] LINE = crlf("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n");

    @Test
    void sixtyMegabyteAttachment() throws IOException {
        byte[] line = LINE;
        long count = 60L * 1024 * 1024 / line.length;
        byte[] middle = crlf("--large\nContent-Type: message/rfc822\n\nFrom: carol@example.test\nSubject: inner\n\n");
        byte[] tail = crlf("inner body\n--large--\n");
        long attachment = line.length * count;
        long size = HEAD.length + attachment + middle.length + tail.length;

        MessageStructure s = MessageStructure.parse(new Generated(List.of(
                new Segment(HEAD, 1), new Segment(line, count), new Segment(middle, 1), new Segment(tail, 1))));

        assertThat(s.size()).isEqualTo(size);
        assertThat(WireText.value(s.body())).isEqualTo("((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 23 0)"
                + "(\"application\" \"octet-stream\" (\"name\" \"big.bin\") NIL NIL \"base64\" " + (attachment - 2) + ")"
                + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 54 (NIL \"inner\" ((NIL NIL \"carol\" \"example.test\")) "
                + "((NIL NIL \"carol\" \"example.test\")) ((NIL NIL \"carol\" \"example.test\")) NIL NIL NIL NIL NIL) "
                + "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0) 3) \"mixed\")");
        assertThat(s.section("2")).contains(new MessageStructure.Range(HEAD.length, attachment - 2));
        assertThat(s.section("3.TEXT")).contains(new MessageStructure.Range(size - tail.length, "inner body".length()));
        assertThat(s.toBytes().length).isLessThan(2048);
    }

    /** The same parse in a JVM whose heap (16 MB) could not hold the message even once. */
    @Test
    void parsesWithASmallHeap() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx16m",
                "-cp", System.getProperty("java.class.path"), SmallHeap.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        long lines = 60L * 1024 * 1024 / LINE.length;
        assertThat(output.strip()).isEqualTo("size " + (HEAD.length + LINE.length * lines + 11) + ", attachment "
                + (LINE.length * lines - 2));
        assertThat(p.exitValue()).isZero();
    }

    /** Run by {@link #parsesWithASmallHeap}. */
    static final class SmallHeap {
        public static void main(String[] args) throws IOException {
            MessageStructure s = MessageStructure.parse(new Generated(List.of(new Segment(HEAD, 1),
                    new Segment(LINE, 60L * 1024 * 1024 / LINE.length), new Segment(crlf("--large--\n"), 1))));
            System.out.println("size " + s.size() + ", attachment " + s.section("2").orElseThrow().length());
        }
    }

    @Test
    void aSixteenMegabyteLineWithoutLineBreak() throws IOException {
        byte[] head = crlf("Subject: one long line\nContent-Type: text/plain\n\n");
        long length = 16L * 1024 * 1024;
        MessageStructure s = MessageStructure.parse(new Generated(List.of(
                new Segment(head, 1), new Segment("x".getBytes(StandardCharsets.US_ASCII), length))));
        assertThat(WireText.value(s.body())).isEqualTo("(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
                + length + " 0)");
        assertThat(s.section("TEXT")).contains(new MessageStructure.Range(head.length, length));
    }

    private record Segment(byte[] bytes, long repeat) {
    }

    /** The concatenation of repeated segments, produced as it is read. */
    private static final class Generated extends InputStream {
        private final List<Segment> segments;
        private int segment;
        private long repeat;
        private int position;

        Generated(List<Segment> segments) {
            this.segments = segments;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            int n = 0;
            while (n < len && segment < segments.size()) {
                Segment s = segments.get(segment);
                int take = Math.min(len - n, s.bytes().length - position);
                System.arraycopy(s.bytes(), position, b, off + n, take);
                n += take;
                position += take;
                if (position == s.bytes().length) {
                    position = 0;
                    if (++repeat == s.repeat()) {
                        repeat = 0;
                        segment++;
                    }
                }
            }
            return n == 0 && len > 0 ? -1 : n;
        }
    }
}
