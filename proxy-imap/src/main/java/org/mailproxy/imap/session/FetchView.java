package org.mailproxy.imap.session;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import org.mailproxy.core.crypto.openpgp.spool.Spool;
import org.mailproxy.imap.codec.FetchEvent;
import org.mailproxy.imap.codec.FetchItemsParser;
import org.mailproxy.imap.codec.FetchResponseWriter;
import org.mailproxy.imap.codec.ImapValue;
import org.mailproxy.imap.codec.LiteralChunk;
import org.mailproxy.imap.codec.ResponseLine;
import org.mailproxy.imap.mailbox.MailboxState;
import org.mailproxy.imap.view.DecryptedMessages;
import org.mailproxy.imap.view.EncryptionClassifier;
import org.mailproxy.imap.view.EntryLiteral;
import org.mailproxy.imap.view.FetchRequest;
import org.mailproxy.imap.view.ViewAnswers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * The decrypted view inside one session (the design problem of the view: the provider only has ciphertext, so
 * what a client asks about an encrypted message must be answered by the proxy).
 *
 * <p>Before the session relays a FETCH whose items depend on content, {@link #prepare} finds out which of its
 * messages the view stands in for and makes sure their views are in the cache:
 * <ol>
 * <li>a probe with the proxy's own tag, in the client's addressing (sequence numbers or UIDs, so that the provider
 *     sends no EXPUNGE a sequence-number FETCH would forbid): {@code UID BODYSTRUCTURE}, the top-level
 *     {@code X-Mailproxy-Status} field and the first octets of the text; {@link EncryptionClassifier} decides;</li>
 * <li>for messages whose view is not cached yet, their stored octets ({@code BODY.PEEK[]}, in batches) into bounded
 *     encrypted spools, each handed to the view workers as soon as it is complete, so fetching and decrypting
 *     overlap.</li>
 * </ol>
 * Then the client's own FETCH goes upstream unchanged (the provider keeps doing flags, \Seen, MODSEQ, numbering) and
 * while it runs ({@link #activate}) each FETCH response about a view message is re-emitted with every content item
 * answered from the view ({@link ViewAnswers}) and literal counts exact; the provider's octets for those items are
 * dropped. Responses about other messages pass untouched. A message whose view is unexpectedly missing (evicted, its
 * fetch failed) is relayed as the provider has it: ciphertext, never partial plaintext.
 *
 * <p>Runs on the session's event loop; only view making runs on the workers.
 */
final class FetchView {

    private static final Logger log = LoggerFactory.getLogger(FetchView.class);

    /** Messages fetched whole per command while preparing, and views being made at once per session. */
    static final int BATCH = 16;
    private static final int PROBE_TEXT_OCTETS = 128;
    private static final int MAX_PROBE_LITERAL = 64 * 1024;
    private static final int SPOOL_MEMORY = 1 << 20;

    /** What the session lends the view. */
    interface Link {
        String nextTag();

        /** Writes one command line (without CRLF) upstream and flushes. */
        void sendUpstream(String line);

        ChannelFuture toClient(Object msg);

        MailboxState mailbox();

        EventExecutor loop();

        /** Ends the session (an internal failure the client cannot recover from on this connection). */
        void fail(String why);
    }

    private final String sessionId;
    private final DecryptedMessages views;
    private final ExecutorService workers;
    private final Link link;
    private final long maxMessageBytes;

    private String mailboxName;
    private long uidValidity;
    /** UID to whether the view stands in for it, for the selected mailbox. */
    private final Map<Long, Boolean> viewed = new HashMap<>();

    private Preparation prep;
    private FetchRequest active;

    FetchView(String sessionId, DecryptedMessages views, ExecutorService workers, Link link, long maxMessageBytes) {
        this.sessionId = sessionId;
        this.views = views;
        this.workers = workers;
        this.link = link;
        this.maxMessageBytes = maxMessageBytes;
    }

    // ------------------------------------------------------------------ mailbox

    /** A SELECT or EXAMINE succeeded. */
    void selected(String mailbox, long uidValidity) {
        this.mailboxName = mailbox;
        this.uidValidity = uidValidity;
        viewed.clear();
        if (mailbox != null && uidValidity > 0) {
            workers.execute(() -> {
                try {
                    views.cache().invalidateIfUidValidityChanged(mailbox, uidValidity);
                } catch (IOException e) {
                    log.debug("imap session {} cache invalidation: {}", sessionId, e.toString());
                }
            });
        }
    }

    void unselected() {
        mailboxName = null;
        uidValidity = 0;
        viewed.clear();
    }

    /** Whether the client's FETCH must be prepared before it goes upstream. */
    boolean wants(FetchRequest request) {
        return mailboxName != null && uidValidity > 0 && request.needsContent();
    }

    boolean preparing() {
        return prep != null;
    }

    // ------------------------------------------------------------------ preparation

    /** Starts preparing {@code request}; {@code ready} runs on the event loop when the client's FETCH may go. */
    void prepare(FetchRequest request, Runnable ready) {
        prep = new Preparation(request, ready);
        prep.probe();
    }

    /** Whether a tagged response is for one of the view's own commands. */
    boolean ownsTag(String tag) {
        return prep != null && tag.equals(prep.ownTag);
    }

    void onOwnTagged(ResponseLine line) {
        try {
            if (!line.name().equals("OK")) {
                log.debug("imap session {} view command refused: {} {}", sessionId, line.name(), line.text());
            }
            prep.commandDone();
        } finally {
            line.release();
        }
    }

    /** The client's prepared FETCH went upstream: its responses are rewritten until {@link #deactivate}. */
    void activate(FetchRequest request) {
        active = request;
    }

    void deactivate() {
        active = null;
    }

    /**
     * The consumer for the pieces of the FETCH response that starts with {@code first} (the first piece is passed to
     * it too), or null when the session relays the response untouched.
     */
    Consumer<Object> sinkFor(ResponseLine first) {
        if (prep != null && prep.ownTag != null) {
            return prep.newResponse();
        }
        if (active != null) {
            long uid = link.mailbox().uid(first.number());
            if (uid > 0 && Boolean.TRUE.equals(viewed.get(uid))) {
                try {
                    Optional<DecryptedMessages.Result> view = views.lookup(mailboxName, uidValidity, uid);
                    if (view.isPresent()) {
                        return new Rewriter(active, view.get());
                    }
                } catch (IOException e) {
                    log.warn("imap session {} view of a message unreadable: {}", sessionId, e.toString());
                }
                log.debug("imap session {} no view for uid {}, relayed as stored", sessionId, uid);
            }
        }
        return null;
    }

    /** The session is closing: nothing more will be delivered. */
    void close() {
        if (prep != null) {
            prep.abandon();
            prep = null;
        }
    }

    private final class Preparation {
        private final FetchRequest request;
        private final Runnable ready;
        private String ownTag;
        private boolean probing;
        /** Probe results: message number to UID, in order. */
        private final Map<Long, Long> probed = new LinkedHashMap<>();
        private final ArrayDeque<long[]> toFetch = new ArrayDeque<>();
        private int making;
        private boolean abandoned;

        Preparation(FetchRequest request, Runnable ready) {
            this.request = request;
            this.ready = ready;
        }

        void probe() {
            probing = true;
            ownTag = link.nextTag();
            link.sendUpstream(ownTag + (request.uid() ? " UID FETCH " : " FETCH ") + request.sequenceSet()
                    + " (UID BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (" + org.mailproxy.core.mime.PgpMimeDecryptor.STATUS_HEADER
                    + ")] BODY.PEEK[TEXT]<0." + PROBE_TEXT_OCTETS + ">)" + request.changedSince());
        }

        Consumer<Object> newResponse() {
            return probing ? new ProbeResponse(this) : new RawResponse(this);
        }

        void classified(long seq, long uid, boolean view) {
            if (uid <= 0) {
                return;
            }
            link.mailbox().fetched(seq, uid);
            viewed.put(uid, view);
            if (view) {
                probed.put(seq, uid);
            }
        }

        void commandDone() {
            ownTag = null;
            if (probing) {
                probing = false;
                List<long[]> candidates = new ArrayList<>();
                probed.forEach((seq, uid) -> candidates.add(new long[]{seq, uid}));
                if (candidates.isEmpty()) {
                    finish();
                    return;
                }
                String box = mailboxName;
                long validity = uidValidity;
                workers.execute(() -> {
                    List<long[]> missing = new ArrayList<>();
                    for (long[] c : candidates) {
                        try {
                            if (!views.has(box, validity, c[1])) {
                                missing.add(c);
                            }
                        } catch (IOException e) {
                            missing.add(c);
                        }
                    }
                    link.loop().execute(() -> {
                        if (!abandoned) {
                            toFetch.addAll(missing);
                            next();
                        }
                    });
                });
                return;
            }
            next();
        }

        /** Sends the next batch of whole-message fetches, or finishes when everything is made. */
        void next() {
            if (abandoned || ownTag != null) {
                return;
            }
            if (toFetch.isEmpty()) {
                if (making == 0) {
                    finish();
                }
                return;
            }
            if (making >= BATCH) {
                return; // resumed when views are made
            }
            StringBuilder set = new StringBuilder();
            for (int i = 0; i < BATCH && !toFetch.isEmpty(); i++) {
                long[] m = toFetch.poll();
                if (set.length() > 0) {
                    set.append(',');
                }
                set.append(request.uid() ? m[1] : m[0]);
            }
            ownTag = link.nextTag();
            link.sendUpstream(ownTag + (request.uid() ? " UID FETCH " : " FETCH ") + set + " (UID BODY.PEEK[])");
        }

        void make(long uid, Spool raw) {
            making++;
            String box = mailboxName;
            long validity = uidValidity;
            workers.execute(() -> {
                try (raw) {
                    views.get(box, validity, uid, raw::openStream).close();
                } catch (IOException | RuntimeException e) {
                    log.warn("imap session {} could not make the view of a message: {}", sessionId, e.toString());
                }
                link.loop().execute(() -> {
                    making--;
                    next();
                });
            });
        }

        private void finish() {
            if (prep == this) {
                prep = null;
                ready.run();
            }
        }

        void abandon() {
            abandoned = true;
        }
    }

    /** A FETCH response to the probe; other items in it (FLAGS, MODSEQ) are passed on to the client. */
    private final class ProbeResponse implements Consumer<Object> {
        private final Preparation p;
        private final FetchItemsParser parser = new FetchItemsParser(MAX_PROBE_LITERAL);
        private long seq;
        private long uid;
        private ImapValue bodystructure;
        private final ByteArrayOutputStream literal = new ByteArrayOutputStream();
        private String literalName;
        private byte[] statusFields = new byte[0];
        private byte[] textStart = new byte[0];
        private final List<FetchEvent.Item> others = new ArrayList<>();

        ProbeResponse(Preparation p) {
            this.p = p;
        }

        @Override
        public void accept(Object part) {
            try {
                for (Object e : parser.feed(part)) {
                    event(e);
                }
            } catch (FetchItemsParser.MalformedFetch | IOException e) {
                link.fail("The mail provider sent an invalid response");
            } finally {
                ReferenceCountUtil.release(part);
            }
        }

        private void event(Object e) throws IOException {
            if (e instanceof FetchEvent.Begin b) {
                seq = b.number();
            } else if (e instanceof FetchEvent.Item item) {
                String name = item.name().toUpperCase(java.util.Locale.ROOT);
                if (name.equals("UID") && item.value() instanceof ImapValue.Atom a) {
                    uid = Long.parseLong(a.text());
                } else if (name.equals("BODYSTRUCTURE")) {
                    bodystructure = item.value();
                } else if (name.startsWith("BODY[")) {
                    byte[] v = octets(item.value());
                    assign(name, v);
                } else {
                    others.add(item);
                }
            } else if (e instanceof FetchEvent.LiteralItem li) {
                literalName = li.name().toUpperCase(java.util.Locale.ROOT);
                literal.reset();
            } else if (e instanceof LiteralChunk chunk) {
                try {
                    if (literal.size() + chunk.content().readableBytes() > MAX_PROBE_LITERAL) {
                        throw new IOException("probe literal too large");
                    }
                    literal.writeBytes(ByteBufUtil.getBytes(chunk.content()));
                    if (chunk.isLast()) {
                        assign(literalName, literal.toByteArray());
                    }
                } finally {
                    chunk.release();
                }
            } else if (e instanceof FetchEvent.End) {
                end();
            }
        }

        private void assign(String name, byte[] v) {
            if (name.startsWith("BODY[HEADER.FIELDS")) {
                statusFields = v;
            } else if (name.startsWith("BODY[TEXT]")) {
                textStart = v;
            }
        }

        private void end() {
            if (uid == 0) {
                uid = link.mailbox().uid(seq);
            }
            boolean view = false;
            if (bodystructure != null) {
                EncryptionClassifier.Kind kind = EncryptionClassifier.classify(bodystructure);
                view = kind == EncryptionClassifier.Kind.PGP_MIME
                        || kind == EncryptionClassifier.Kind.INLINE_CANDIDATE && EncryptionClassifier.isInlinePgp(textStart)
                        || hasField(statusFields);
            }
            p.classified(seq, uid, view);
            if (!others.isEmpty()) {
                FetchResponseWriter w = new FetchResponseWriter(seq);
                if (uid > 0) {
                    w.item("UID", new ImapValue.Atom(Long.toString(uid)));
                }
                for (FetchEvent.Item i : others) {
                    w.item(i.name(), i.value());
                }
                w.end().forEach(link::toClient);
            }
        }
    }

    /** Whether a {@code HEADER.FIELDS} answer holds a field (more than the blank line). */
    private static boolean hasField(byte[] fields) {
        for (byte b : fields) {
            if (b != '\r' && b != '\n') {
                return true;
            }
        }
        return false;
    }

    private static byte[] octets(ImapValue v) {
        if (v instanceof ImapValue.Literal l) {
            return l.octets();
        }
        if (v instanceof ImapValue.Quoted q) {
            return q.text().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        return new byte[0];
    }

    /** A FETCH response carrying a whole message for the view to be made from. */
    private final class RawResponse implements Consumer<Object> {
        private final Preparation p;
        private final FetchItemsParser parser = new FetchItemsParser(MAX_PROBE_LITERAL);
        private long seq;
        private long uid;
        private Spool spool;
        private OutputStream out;
        private boolean failed;

        RawResponse(Preparation p) {
            this.p = p;
        }

        @Override
        public void accept(Object part) {
            try {
                for (Object e : parser.feed(part)) {
                    event(e);
                }
            } catch (FetchItemsParser.MalformedFetch e) {
                discard();
                link.fail("The mail provider sent an invalid response");
            } finally {
                ReferenceCountUtil.release(part);
            }
        }

        private void event(Object e) {
            if (e instanceof FetchEvent.Begin b) {
                seq = b.number();
            } else if (e instanceof FetchEvent.Item item) {
                if (item.name().equalsIgnoreCase("UID") && item.value() instanceof ImapValue.Atom a) {
                    uid = Long.parseLong(a.text());
                }
            } else if (e instanceof FetchEvent.LiteralItem li) {
                if (li.name().toUpperCase(java.util.Locale.ROOT).startsWith("BODY[]") && spool == null) {
                    spool = new Spool(SPOOL_MEMORY, maxMessageBytes, null);
                    out = spool.output();
                }
            } else if (e instanceof LiteralChunk chunk) {
                try {
                    if (out != null && !failed) {
                        chunk.content().readBytes(out, chunk.content().readableBytes());
                        if (chunk.isLast()) {
                            out.close();
                            out = null;
                        }
                    }
                } catch (IOException ex) {
                    log.warn("imap session {} spooling a message for the view failed: {}", sessionId, ex.toString());
                    failed = true;
                } finally {
                    chunk.release();
                }
            } else if (e instanceof FetchEvent.End) {
                if (uid == 0) {
                    uid = link.mailbox().uid(seq);
                }
                if (spool != null && out == null && !failed && uid > 0) {
                    Spool s = spool;
                    spool = null;
                    p.make(uid, s);
                } else {
                    discard();
                }
            }
        }

        private void discard() {
            if (spool != null) {
                try {
                    spool.close();
                } catch (IOException e) {
                    log.debug("closing a spool: {}", e.toString());
                }
                spool = null;
            }
        }
    }

    /** Re-emits one FETCH response about a view message with its content items answered from the view. */
    private final class Rewriter implements Consumer<Object> {
        private final FetchRequest request;
        private final DecryptedMessages.Result view;
        private final FetchItemsParser parser = new FetchItemsParser(MAX_PROBE_LITERAL);
        private FetchResponseWriter writer;
        /** Chunks of the current upstream literal: dropped (true) or relayed (false). */
        private boolean dropping;
        private ChannelFuture last;

        Rewriter(FetchRequest request, DecryptedMessages.Result view) {
            this.request = request;
            this.view = view;
        }

        @Override
        public void accept(Object part) {
            try {
                for (Object e : parser.feed(part)) {
                    event(e);
                }
            } catch (FetchItemsParser.MalformedFetch e) {
                closeView();
                link.fail("The mail provider sent an invalid response");
            } catch (IOException | RuntimeException e) {
                log.warn("imap session {} answering from the view failed: {}", sessionId, e.toString());
                closeView();
                link.fail("[SERVERBUG] Internal proxy error");
            } finally {
                ReferenceCountUtil.release(part);
            }
        }

        private void event(Object e) throws IOException {
            if (e instanceof FetchEvent.Begin b) {
                writer = new FetchResponseWriter(b.number());
            } else if (e instanceof FetchEvent.Item item) {
                Optional<FetchRequest.Item> asked = request.answeredBy(item.name());
                if (asked.isPresent() && asked.get().content()) {
                    answer(item.name(), asked.get());
                } else {
                    writer.item(item.name(), item.value());
                }
            } else if (e instanceof FetchEvent.LiteralItem li) {
                Optional<FetchRequest.Item> asked = request.answeredBy(li.name());
                if (asked.isPresent() && asked.get().content()) {
                    dropping = true;
                    answer(li.name(), asked.get());
                } else {
                    dropping = false;
                    writer.literalItem(li.name(), li.spec().size());
                    writer.take().forEach(link::toClient);
                }
            } else if (e instanceof LiteralChunk chunk) {
                if (dropping) {
                    chunk.release();
                } else {
                    link.toClient(chunk);
                }
            } else if (e instanceof FetchEvent.End) {
                for (Object piece : writer.end()) {
                    last = link.toClient(piece);
                }
                closeView();
            }
        }

        private void answer(String name, FetchRequest.Item asked) throws IOException {
            ViewAnswers.Answer a = ViewAnswers.answer(asked, view.structure(), view.entry());
            if (a instanceof ViewAnswers.Value v) {
                writer.item(name, v.value());
            } else if (a instanceof ViewAnswers.Octets o) {
                writer.literalItem(name, o.length());
                writer.take().forEach(link::toClient);
                if (o.length() == 0) {
                    link.toClient(new LiteralChunk(io.netty.buffer.Unpooled.EMPTY_BUFFER, true));
                } else {
                    link.toClient(new EntryLiteral(view.entry().openStream(o.offset(), o.length()), o.length()));
                }
            }
        }

        /** The entry stays open until everything read from it is written. */
        private void closeView() {
            Runnable close = () -> {
                try {
                    view.close();
                } catch (IOException e) {
                    log.debug("closing a view: {}", e.toString());
                }
            };
            if (last != null) {
                last.addListener(f -> close.run());
            } else {
                close.run();
            }
        }
    }
}
