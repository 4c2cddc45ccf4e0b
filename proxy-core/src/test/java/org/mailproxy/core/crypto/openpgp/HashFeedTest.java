package org.mailproxy.core.crypto.openpgp;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The signature hash fed on a second thread sees every octet once, in order, and its failures reach the caller. */
class HashFeedTest {

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    /** Reads {@code data} through the feed as the decryptor does, in reads of varying size. */
    private static void feed(HashFeed feed, byte[] data) throws IOException {
        InputStream in = new ByteArrayInputStream(data);
        Random sizes = new Random(7);
        while (true) {
            byte[] buf = feed.buffer();
            int n = in.readNBytes(buf, 0, Math.min(buf.length, 1 + sizes.nextInt(buf.length)));
            if (n <= 0) {
                break;
            }
            feed.hash(buf, n);
        }
        feed.finish();
    }

    @Test
    void theHashIsTheSameInlineAndOnTheSecondThread() throws Exception {
        byte[] data = random(5 * HashFeed.BUFFER + 12345);
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(data);
        for (long after : new long[]{0, 1, 100_000, Long.MAX_VALUE}) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            AtomicInteger threads = new AtomicInteger();
            Thread caller = Thread.currentThread();
            try (HashFeed feed = new HashFeed((b, n) -> {
                if (Thread.currentThread() != caller) {
                    threads.incrementAndGet();
                }
                sha.update(b, 0, n);
            }, after)) {
                feed(feed, data);
            }
            assertThat(sha.digest()).as("pipeline after " + after).isEqualTo(expected);
            assertThat(threads.get() > 0).as("hashed on another thread, after " + after).isEqualTo(after != Long.MAX_VALUE);
        }
    }

    @Test
    void aFailureOfTheHashReachesTheCaller() {
        byte[] data = random(4 * HashFeed.BUFFER);
        AtomicInteger calls = new AtomicInteger();
        HashFeed feed = new HashFeed((b, n) -> {
            if (calls.incrementAndGet() == 3) {
                throw new IllegalStateException("broken digest");
            }
        }, 1);
        assertThatThrownBy(() -> feed(feed, data)).isInstanceOf(IOException.class)
                .hasRootCauseMessage("broken digest");
        feed.close();
    }

    @Test
    void closingBeforeTheEndWaitsForTheHashingThread() throws Exception {
        AtomicInteger inFlight = new AtomicInteger();
        HashFeed feed = new HashFeed((b, n) -> {
            inFlight.incrementAndGet();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
        }, 1);
        byte[] first = feed.buffer();
        feed.hash(first, first.length);
        for (int i = 0; i < 3; i++) {
            byte[] b = feed.buffer();
            feed.hash(b, b.length);
        }
        feed.close();
        assertThat(inFlight.get()).as("nothing hashes after close returned").isZero();
    }
}
