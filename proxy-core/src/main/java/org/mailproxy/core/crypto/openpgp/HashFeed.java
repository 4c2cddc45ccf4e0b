package org.mailproxy.core.crypto.openpgp;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Feeds the literal data of a large message to its signature hashes on a second thread. Decrypting a signed message
 * hashes every octet twice (SHA-1 for the MDC, SHA-256 or so for the signature), and on this kind of CPU the hashes,
 * not AES, are most of the work: with the signature's hash beside the decryption, a large message decrypts sooner
 * when a core is free. Small messages are hashed inline: a hand-off would cost more than it saves.
 *
 * <p>Buffers are lent, not copied: the caller takes one with {@link #buffer()}, fills it, uses it (the spool write)
 * and passes it to {@link #hash}; the hashing thread only reads it and gives it back. At most {@link #DEPTH} buffers
 * exist. {@link #finish()} waits until everything is hashed (the caller then verifies the signatures, seeing the
 * hasher's work through the latch's happens-before).
 */
final class HashFeed implements Closeable {
    /** What the hashes are fed with. */
    interface Sink {
        void update(byte[] buffer, int length) throws IOException;
    }

    private static final int INLINE_BUFFER = 1 << 16;
    /** Big enough that a hand-off (a park and unpark, slow in a virtual machine) is rare. */
    static final int BUFFER = 1 << 18;
    private static final int DEPTH = 4;
    static final long PIPELINE_AFTER = 4 << 20;
    private static final Object END = new Object();
    private static final ExecutorService HASHERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "mailproxy-signature-hash");
        t.setDaemon(true);
        return t;
    });

    private record Chunk(byte[] buffer, int length) {
    }

    private final Sink sink;
    private final long pipelineAfter;
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(DEPTH);
    private final BlockingQueue<Object> chunks = new ArrayBlockingQueue<>(DEPTH + 1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final byte[] inline = new byte[INLINE_BUFFER];
    private int allocated;
    private long fed;
    private boolean running;
    private boolean finished;
    private volatile IOException failure;

    HashFeed(Sink sink) {
        this(sink, PIPELINE_AFTER);
    }

    HashFeed(Sink sink, long pipelineAfter) {
        this.sink = sink;
        this.pipelineAfter = pipelineAfter;
    }

    /** A buffer to fill; the one passed to {@link #hash} before is no longer the caller's. */
    byte[] buffer() throws IOException {
        if (!running) {
            return inline;
        }
        if (allocated < DEPTH && free.isEmpty()) {
            allocated++;
            return new byte[BUFFER];
        }
        while (true) {
            check();
            try {
                byte[] b = free.poll(50, TimeUnit.MILLISECONDS);
                if (b != null) {
                    return b;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
        }
    }

    /** Hashes {@code length} octets of {@code buffer}, in order with what came before. */
    void hash(byte[] buffer, int length) throws IOException {
        if (!running) {
            sink.update(buffer, length);
            fed += length;
            if (fed >= pipelineAfter) {
                running = true;
                HASHERS.execute(this::drain);
            }
            return;
        }
        offer(new Chunk(buffer, length));
    }

    /** Waits until everything passed to {@link #hash} is hashed; rethrows the hashing thread's failure. */
    void finish() throws IOException {
        finished = true;
        if (!running) {
            return;
        }
        offer(END);
        await();
        IOException f = failure;
        if (f != null) {
            throw f;
        }
    }

    @Override
    public void close() {
        if (finished || !running) {
            return;
        }
        // failing before the end: drop what is queued and wait, so the hashes have one user again
        finished = true;
        chunks.clear();
        chunks.offer(END);
        boolean interrupted = false;
        while (true) {
            try {
                stopped.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        try {
            while (true) {
                Object next = chunks.take();
                if (next == END) {
                    return;
                }
                Chunk c = (Chunk) next;
                sink.update(c.buffer(), c.length());
                free.offer(c.buffer());
            }
        } catch (IOException e) {
            failure = e;
        } catch (InterruptedException e) {
            failure = new InterruptedIOException("signature hashing interrupted");
        } catch (RuntimeException | Error e) {
            failure = new IOException("signature hashing failed", e);
        } finally {
            stopped.countDown();
        }
    }

    private void offer(Object item) throws IOException {
        try {
            while (!chunks.offer(item, 50, TimeUnit.MILLISECONDS)) {
                check();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
    }

    private void check() throws IOException {
        IOException f = failure;
        if (f != null) {
            await();
            throw f;
        }
    }

    private void await() throws IOException {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException();
        }
    }
}
