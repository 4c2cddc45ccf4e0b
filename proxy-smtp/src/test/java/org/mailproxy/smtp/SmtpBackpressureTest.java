package org.mailproxy.smtp;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A provider that stops reading mid-DATA must stop the client, not fill the proxy's heap: the proxy reads the
 * client only while the upstream is writable, so what it holds stays small however big the message is.
 */
class SmtpBackpressureTest {

    private static final int MB = 1 << 20;

    @TempDir
    Path dir;

    private static long allocated() {
        ByteBufAllocator a = ByteBufAllocator.DEFAULT;
        if (a instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
        }
        return io.netty.util.internal.PlatformDependent.usedDirectMemory();
    }

    @Test
    void aStalledUpstreamHoldsTheClientAndMemoryStaysFlat() throws Exception {
        FakeSmtpServer.Options o = new FakeSmtpServer.Options();
        o.digestOnly = true;
        o.pauseAfterDataBytes = MB;
        try (FakeSmtpServer up = new FakeSmtpServer(o);
             ProxyFixture p = new ProxyFixture(dir, ProxyFixture.one("alice", up.url()), "");
             TestClient c = new TestClient(p.port())) {
            c.reply();
            c.cmd("AUTH PLAIN " + TestClient.plain("alice", "secret"));
            c.cmd("MAIL FROM:<alice@example.com>");
            c.cmd("RCPT TO:<bob@example.org>");
            assertThat(c.cmd("DATA")).startsWith("354");
            long before = allocated();

            String line = "x".repeat(998) + "\r\n";
            String chunk = line.repeat(64);
            int chunks = 32 * MB / chunk.length();
            long total = (long) chunks * chunk.length();
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] chunkBytes = chunk.getBytes(StandardCharsets.ISO_8859_1);
            for (int i = 0; i < chunks; i++) {
                sha.update(chunkBytes);
            }
            sha.update(".\r\n".getBytes(StandardCharsets.US_ASCII));
            String expected = total + ":" + HexFormat.of().formatHex(sha.digest());

            AtomicLong written = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 0; i < chunks; i++) {
                        c.send(chunk);
                        written.addAndGet(chunk.length());
                    }
                    c.send(".\r\n");
                } catch (Throwable t) {
                    failed.set(t);
                }
            }, "big-message-writer");
            writer.start();

            assertThat(o.paused.await(30, TimeUnit.SECONDS)).isTrue();
            long[] last = {-1};
            await().pollInterval(Duration.ofMillis(300)).atMost(Duration.ofSeconds(30)).until(() -> {
                long w = written.get();
                boolean stalled = w == last[0];
                last[0] = w;
                return stalled;
            });
            org.slf4j.LoggerFactory.getLogger(getClass()).info("stalled after {} of {} octets written, {} octets allocated",
                    written.get(), total, allocated() - before);
            assertThat(written.get()).isLessThan(total);
            assertThat(allocated() - before).isLessThan(12L * MB);

            o.resumeReading.countDown();
            writer.join(60_000);
            assertThat(failed.get()).isNull();
            assertThat(c.reply()).startsWith("250 ");
            assertThat(up.digests).containsExactly(expected);
        }
    }
}
