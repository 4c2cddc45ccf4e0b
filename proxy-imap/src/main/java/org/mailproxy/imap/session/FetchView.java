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
import org.mailproxy.imap.mailbox.MailboxUpdates;
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

    /** UIDs whose view is known to be in the cache (made or found by this session). */
    private final java.util.Set<Long> ready = new java.util.HashSet<>();

    private Preparation prep;
    /** The client's content FETCHes sent upstream and not answered yet, oldest first. */
    private final ArrayDeque<Active> active = new ArrayDeque<>();

    /** A client FETCH on its way; with {@code held}, its content items were left out upstream. */
    private static final class Active {
        final FetchRequest request;
        final Map<Long, DecryptedMessages.Result> held;
        /** The UIDs the request names, or null when the session could not tell (then: any). */
        final java.util.Set<Long> uids;
        final java.util.Set<Long> answered = new java.util.HashSet<>();
        /** The last response written from a held view: the views are closed once it is on the wire. */
        ChannelFuture last;

        Active(FetchRequest request, long[] uids, Map<Long, DecryptedMessages.Result> held) {
            this.request = request;
            this.held = held;
            this.uids = uids == null ? null : java.util.Arrays.stream(uids).boxed()
                    .collect(java.util.stream.Collectors.toSet());
        }

        boolean awaits(long uid) {
            return (uids == null || uids.contains(uid)) && !answered.contains(uid);
        }

        boolean stripped() {
            return held != null;
        }

        void close() {
            if (last != null && !last.isDone()) {
                last.addListener(f -> closeNow());
            } else {
                closeNow();
            }
        }

        private void closeNow() {
            if (held != null) {
                for (DecryptedMessages.Result r : held.values()) {
                    try {
                        r.close();
                    } catch (IOException e) {
                        log.debug("closing a view: {}", e.toString());
                    }
                }
            }
        }
    }

    /** Mailboxes up to this size are probed whole on the first content FETCH, so later ones need no probe. */
    static final int WHOLE_PROBE_LIMIT = 20_000;
    /** Requests of up to this many messages, all with a view, leave their content items out upstream. */
    static final int STRIP_LIMIT = 64;
    /** Asked upstream instead of the content items when the client's items would set \Seen. */
    static final String SEEN_MARKER = "BODY[HEADER.FIELDS (X-MAILPROXY-SEEN)]";

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
        ready.clear();
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
        ready.clear();
    }

    boolean isSelected() {
        return mailboxName != null && uidValidity > 0;
    }

    /** The message left the mailbox (EXPUNGE, VANISHED): its view leaves the cache. */
    void expunged(long uid) {
        if (!isSelected() || uid <= 0) {
            return;
        }
        Boolean wasView = viewed.remove(uid);
        ready.remove(uid);
        if (Boolean.TRUE.equals(wasView)) {
            String box = mailboxName;
            long validity = uidValidity;
            workers.execute(() -> {
                try {
                    views.remove(box, validity, uid);
                } catch (IOException e) {
                    log.debug("imap session {} removing a view: {}", sessionId, e.toString());
                }
            });
        }
    }

    /**
     * COPY or MOVE answered {@code [COPYUID validity from to]} (RFC 4315 §3): the views of the copied messages are
     * copied in the cache under their new mailbox and UIDs.
     */
    void copied(String toMailbox, String copyUid) {
        if (!isSelected() || toMailbox == null) {
            return;
        }
        String[] p = copyUid.trim().split(" +");
        if (p.length != 4) {
            return;
        }
        long toValidity;
        try {
            toValidity = Long.parseLong(p[1]);
        } catch (NumberFormatException e) {
            return;
        }
        long[] from = org.mailproxy.imap.mailbox.SequenceSet.expand(p[2], 0, WHOLE_PROBE_LIMIT);
        long[] to = org.mailproxy.imap.mailbox.SequenceSet.expand(p[3], 0, WHOLE_PROBE_LIMIT);
        if (from == null || to == null || from.length != to.length) {
            return;
        }
        // RFC 4315: the sets are in the same order, source UIDs ascending
        List<long[]> pairs = new ArrayList<>();
        for (int i = 0; i < from.length; i++) {
            if (Boolean.TRUE.equals(viewed.get(from[i]))) {
                pairs.add(new long[]{from[i], to[i]});
            }
        }
        if (pairs.isEmpty()) {
            return;
        }
        String box = mailboxName;
        long validity = uidValidity;
        String target = toMailbox.equalsIgnoreCase("INBOX") ? "INBOX" : toMailbox;
        workers.execute(() -> {
            for (long[] pair : pairs) {
                try {
                    views.copy(box, validity, pair[0], target, toValidity, pair[1]);
                } catch (IOException e) {
                    log.debug("imap session {} copying a view: {}", sessionId, e.toString());
                }
            }
        });
    }

    /** Whether the client's FETCH must be prepared before it goes upstream. */
    boolean wants(FetchRequest request) {
        return mailboxName != null && uidValidity > 0 && request.needsContent();
    }

    boolean preparing() {
        return prep != null;
    }

    /**
     * Whether the view must prepare {@code request} before it goes upstream: some of its messages are not
     * classified yet, or have a view that is not known to be cached. A FETCH that needs nothing goes at once, keeping
     * the client's pipelining (mbsync sends many).
     */
    boolean needsPreparation(FetchRequest request) {
        long[] uids = resolve(request);
        if (uids == null) {
            return true;
        }
        for (long uid : uids) {
            Boolean v = viewed.get(uid);
            if (v == null || v && !ready.contains(uid)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The UIDs of the existing messages {@code request} names, or null when the session cannot tell without asking
     * (unknown UIDs, a set too large to look at).
     */
    private long[] resolve(FetchRequest request) {
        MailboxState box = link.mailbox();
        int size = box.size();
        if (request.uid()) {
            if (!box.allKnown()) {
                return null;
            }
            long star = size == 0 ? 0 : box.uid(size);
            long[] set = org.mailproxy.imap.mailbox.SequenceSet.expand(request.sequenceSet(), star, WHOLE_PROBE_LIMIT);
            if (set == null) {
                return null;
            }
            return java.util.Arrays.stream(set).filter(u -> box.sequence(u) > 0).toArray();
        }
        long[] seqs = org.mailproxy.imap.mailbox.SequenceSet.expand(request.sequenceSet(), size, WHOLE_PROBE_LIMIT);
        if (seqs == null) {
            return null;
        }
        long[] uids = new long[seqs.length];
        for (int i = 0; i < seqs.length; i++) {
            uids[i] = box.uid(seqs[i]);
            if (uids[i] == 0) {
                return null;
            }
        }
        return uids;
    }

    // ------------------------------------------------------------------ preparation

    /** Starts preparing {@code request}; {@code ready} runs on the event loop when the client's FETCH may go. */
    void prepare(FetchRequest request, Runnable ready) {
        prep = new Preparation(request, ready);
        prep.start();
    }

    /**
     * Makes sure every message of the mailbox is classified and every view is cached, then evaluates {@code keys}
     * against each view message on a worker; {@code done} gets the view messages' UIDs and, per key, those that
     * match, on the event loop (nothing when the session went away).
     */
    void search(List<org.mailproxy.imap.view.SearchCriteria.Key> keys,
                java.util.function.BiConsumer<java.util.Set<Long>, List<java.util.Set<Long>>> done) {
        FetchRequest all;
        try {
            all = FetchRequest.parse("1:* (RFC822.SIZE)", false);
        } catch (FetchRequest.Unparsed e) {
            throw new IllegalStateException(e);
        }
        Runnable evaluate = () -> {
            MailboxState box = link.mailbox();
            java.util.Set<Long> viewUids = new java.util.TreeSet<>();
            for (int seq = 1; seq <= box.size(); seq++) {
                long uid = box.uid(seq);
                if (uid > 0 && Boolean.TRUE.equals(viewed.get(uid))) {
                    viewUids.add(uid);
                }
            }
            String mailbox = mailboxName;
            long validity = uidValidity;
            workers.execute(() -> {
                List<java.util.Set<Long>> matches = new ArrayList<>();
                keys.forEach(k -> matches.add(new java.util.TreeSet<>()));
                for (long uid : viewUids) {
                    try {
                        Optional<DecryptedMessages.Result> r = views.lookup(mailbox, validity, uid);
                        if (r.isEmpty()) {
                            continue;
                        }
                        try (DecryptedMessages.Result view = r.get()) {
                            boolean[] m = org.mailproxy.imap.view.ViewSearch.matches(keys, view.structure(), view.entry());
                            for (int k = 0; k < m.length; k++) {
                                if (m[k]) {
                                    matches.get(k).add(uid);
                                }
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        log.warn("imap session {} could not search the view of a message: {}", sessionId, e.toString());
                    }
                }
                link.loop().execute(() -> {
                    try {
                        done.accept(viewUids, matches);
                    } catch (RuntimeException e) {
                        log.error("imap session {} failed answering a search", sessionId, e);
                        link.fail("[SERVERBUG] Internal proxy error");
                    }
                });
            });
        };
        if (link.mailbox().size() == 0) {
            evaluate.run();
            return;
        }
        prepare(all, evaluate);
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

    /**
     * The client's FETCH goes upstream now: its responses are rewritten until {@link #deactivate}. Returns the
     * command to send instead of the client's (without tag) when every message it names has a view in the cache and
     * the provider need not send their stored octets, else null.
     */
    String activate(FetchRequest request) {
        Map<Long, DecryptedMessages.Result> held = strippable(request);
        active.add(new Active(request, resolve(request), held));
        return held == null ? null : request.withoutContent(SEEN_MARKER);
    }

    private Map<Long, DecryptedMessages.Result> strippable(FetchRequest request) {
        if (request.items().stream().anyMatch(i -> i.kind() == FetchRequest.Kind.BINARY)) {
            return null;
        }
        long[] uids = resolve(request);
        if (uids == null || uids.length == 0 || uids.length > STRIP_LIMIT) {
            return null;
        }
        for (long uid : uids) {
            if (!Boolean.TRUE.equals(viewed.get(uid)) || !ready.contains(uid)) {
                return null;
            }
        }
        Map<Long, DecryptedMessages.Result> held = new HashMap<>();
        try {
            for (long uid : uids) {
                Optional<DecryptedMessages.Result> r = views.lookup(mailboxName, uidValidity, uid);
                if (r.isEmpty()) {
                    ready.remove(uid);
                    new Active(request, null, held).close();
                    return null;
                }
                held.put(uid, r.get());
            }
        } catch (IOException e) {
            new Active(request, null, held).close();
            return null;
        }
        return held;
    }

    /** The oldest FETCH on its way was answered. */
    void deactivate() {
        Active a = active.poll();
        if (a != null) {
            a.close();
        }
    }

    /**
     * The consumer for the pieces of the FETCH response that starts with {@code first} (the first piece is passed to
     * it too), or null when the session relays the response untouched.
     */
    Consumer<Object> sinkFor(ResponseLine first) {
        if (prep != null && prep.ownTag != null) {
            return prep.newResponse();
        }
        long uid = link.mailbox().uid(first.number());
        if (uid <= 0 || active.isEmpty()) {
            return null;
        }
        // A provider may send the responses of several pipelined FETCHes before their tagged completions
        // (Dovecot does), so a response is matched to the oldest command that names its message and has not had
        // it yet; a command sent without content items asked for the UID, so a response without one is not its.
        boolean carriesUid = MailboxUpdates.fetchUid(first.tokens()) > 0;
        for (Active a : active) {
            if (!a.awaits(uid) || a.stripped() && !carriesUid) {
                continue;
            }
            a.answered.add(uid);
            DecryptedMessages.Result held = a.held == null ? null : a.held.get(uid);
            if (held != null) {
                return new Rewriter(a, a.request, held, false, true);
            }
            if (Boolean.TRUE.equals(viewed.get(uid))) {
                try {
                    Optional<DecryptedMessages.Result> view = views.lookup(mailboxName, uidValidity, uid);
                    if (view.isPresent()) {
                        return new Rewriter(null, a.request, view.get(), true, false);
                    }
                } catch (IOException e) {
                    log.warn("imap session {} view of a message unreadable: {}", sessionId, e.toString());
                }
                log.debug("imap session {} no view for uid {}, relayed as stored", sessionId, uid);
            }
            return null;
        }
        return null;
    }

    /** The session is closing: nothing more will be delivered. */
    void close() {
        if (prep != null) {
            prep.abandon();
            prep = null;
        }
        while (!active.isEmpty()) {
            deactivate();
        }
    }

    private final class Preparation {
        private final FetchRequest request;
        private final Runnable ready;
        private String ownTag;
        private boolean probing;
        /** Whether the probe is of the whole mailbox (else of the request's own set, in its addressing). */
        private boolean wholeProbe;
        /** View messages the probe found (message number to UID), for a request the session cannot resolve. */
        private final Map<Long, Long> probed = new LinkedHashMap<>();
        private final ArrayDeque<long[]> toFetch = new ArrayDeque<>();
        private int making;
        private boolean abandoned;

        Preparation(FetchRequest request, Runnable ready) {
            this.request = request;
            this.ready = ready;
        }

        /** Probes what is not classified yet, then checks the cache. */
        void start() {
            long[] uids = resolve(request);
            boolean unclassified = uids == null;
            if (uids != null) {
                for (long uid : uids) {
                    unclassified |= !viewed.containsKey(uid);
                }
            }
            if (!unclassified) {
                check(targets(uids), null);
                return;
            }
            probing = true;
            ownTag = link.nextTag();
            int size = link.mailbox().size();
            wholeProbe = size > 0 && size <= WHOLE_PROBE_LIMIT;
            String what = wholeProbe ? " FETCH 1:*" : (request.uid() ? " UID FETCH " : " FETCH ") + request.sequenceSet();
            link.sendUpstream(ownTag + what + " (UID BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS ("
                    + org.mailproxy.core.mime.PgpMimeDecryptor.STATUS_HEADER + ")] BODY.PEEK[TEXT]<0."
                    + PROBE_TEXT_OCTETS + ">)" + (wholeProbe ? "" : request.changedSince()));
        }

        /** The request's view messages whose view is not known to be cached, as (number, UID). */
        private List<long[]> targets(long[] uids) {
            List<long[]> out = new ArrayList<>();
            if (uids == null) {
                if (!wholeProbe) {
                    probed.forEach((seq, uid) -> {
                        if (!FetchView.this.ready.contains(uid)) {
                            out.add(new long[]{seq, uid});
                        }
                    });
                }
                return out;
            }
            for (long uid : uids) {
                if (Boolean.TRUE.equals(viewed.get(uid)) && !FetchView.this.ready.contains(uid)) {
                    out.add(new long[]{link.mailbox().sequence(uid), uid});
                }
            }
            return out;
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
                List<long[]> targets = targets(resolve(request));
                if (wholeProbe) {
                    // one pass over the cache for every view message of the mailbox, so that later FETCHes of
                    // cached views (mbsync fetching message after message) need no preparation at all
                    java.util.Set<Long> wanted = new java.util.HashSet<>();
                    targets.forEach(t -> wanted.add(t[1]));
                    List<long[]> all = new ArrayList<>();
                    probed.forEach((seq, uid) -> {
                        if (!FetchView.this.ready.contains(uid)) {
                            all.add(new long[]{seq, uid});
                        }
                    });
                    check(all, wanted);
                } else {
                    check(targets, null);
                }
                return;
            }
            next();
        }

        /**
         * Finds out on a worker which candidates' views are cached already; fetches the others that are
         * {@code wanted} (all of them when null).
         */
        private void check(List<long[]> candidates, java.util.Set<Long> wanted) {
            if (candidates.isEmpty()) {
                finish();
                return;
            }
            String box = mailboxName;
            long validity = uidValidity;
            workers.execute(() -> {
                List<long[]> missing = new ArrayList<>();
                List<Long> cached = new ArrayList<>();
                for (long[] c : candidates) {
                    try {
                        if (views.has(box, validity, c[1])) {
                            cached.add(c[1]);
                        } else {
                            missing.add(c);
                        }
                    } catch (IOException e) {
                        missing.add(c);
                    }
                }
                if (wanted != null) {
                    missing.removeIf(m -> !wanted.contains(m[1]));
                }
                link.loop().execute(() -> {
                    if (!abandoned) {
                        FetchView.this.ready.addAll(cached);
                        toFetch.addAll(missing);
                        next();
                    }
                });
            });
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
                boolean made = false;
                try (raw) {
                    views.get(box, validity, uid, raw::openStream).close();
                    made = true;
                } catch (IOException | RuntimeException e) {
                    log.warn("imap session {} could not make the view of a message: {}", sessionId, e.toString());
                }
                boolean ok = made;
                link.loop().execute(() -> {
                    making--;
                    if (ok && !abandoned) {
                        FetchView.this.ready.add(uid);
                    }
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

    /**
     * One FETCH response fed piece by piece through a {@link FetchItemsParser}: the events go to {@link #event};
     * a response that breaks the grammar ends the session; every piece is released here.
     */
    private abstract class ParsedResponse implements Consumer<Object> {
        private final FetchItemsParser parser = new FetchItemsParser(MAX_PROBE_LITERAL);

        @Override
        public final void accept(Object part) {
            try {
                for (Object e : parser.feed(part)) {
                    event(e);
                }
            } catch (FetchItemsParser.MalformedFetch e) {
                log.warn("imap session {} provider sent an invalid FETCH response: {}", sessionId, e.getMessage());
                abandon();
                link.fail("The mail provider sent an invalid response");
            } catch (IOException | RuntimeException e) {
                log.warn("imap session {} handling a FETCH response for the view failed: {}", sessionId, e.toString());
                abandon();
                link.fail("[SERVERBUG] Internal proxy error");
            } finally {
                ReferenceCountUtil.release(part);
            }
        }

        abstract void event(Object e) throws IOException;

        /** Releases what the response holds when it cannot be finished. */
        void abandon() {
        }
    }

    /** A FETCH response to the probe; other items in it (FLAGS, MODSEQ) are passed on to the client. */
    private final class ProbeResponse extends ParsedResponse {
        private final Preparation p;
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
        void event(Object e) throws IOException {
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
                        || kind == EncryptionClassifier.Kind.PARTLY_ENCRYPTED
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
    private final class RawResponse extends ParsedResponse {
        private final Preparation p;
        private long seq;
        private long uid;
        private Spool spool;
        private OutputStream out;
        private boolean failed;

        RawResponse(Preparation p) {
            this.p = p;
        }

        @Override
        void abandon() {
            discard();
        }

        @Override
        void event(Object e) {
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

    /**
     * Re-emits one FETCH response about a view message with its content items answered from the view. For a FETCH
     * sent without its content items ({@link #activate}), the first response about each message gets them added.
     */
    private final class Rewriter extends ParsedResponse {
        private final Active owner;
        private final FetchRequest request;
        private final DecryptedMessages.Result view;
        private final boolean closeAfter;
        private final boolean addContent;
        private final java.util.Set<String> answered = new java.util.HashSet<>();
        private FetchResponseWriter writer;
        /** Chunks of the current upstream literal: dropped (true) or relayed (false). */
        private boolean dropping;
        private ChannelFuture last;

        Rewriter(Active owner, FetchRequest request, DecryptedMessages.Result view, boolean closeAfter,
                 boolean addContent) {
            this.owner = owner;
            this.request = request;
            this.view = view;
            this.closeAfter = closeAfter;
            this.addContent = addContent;
        }

        @Override
        void abandon() {
            closeView();
        }

        @Override
        void event(Object e) throws IOException {
            if (e instanceof FetchEvent.Begin b) {
                writer = new FetchResponseWriter(b.number());
            } else if (e instanceof FetchEvent.Item item) {
                if (isSeenMarker(item.name())) {
                    return;
                }
                Optional<FetchRequest.Item> asked = request.answeredBy(item.name());
                if (asked.isPresent() && asked.get().content()) {
                    answer(item.name(), asked.get());
                } else {
                    writer.item(item.name(), item.value());
                }
            } else if (e instanceof FetchEvent.LiteralItem li) {
                Optional<FetchRequest.Item> asked = request.answeredBy(li.name());
                if (isSeenMarker(li.name())) {
                    dropping = true;
                } else if (asked.isPresent() && asked.get().content()) {
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
                if (addContent) {
                    for (FetchRequest.Item i : request.items()) {
                        if (i.content() && !answered.contains(i.responseName())) {
                            answer(i.responseName(), i);
                        }
                    }
                }
                for (Object piece : writer.end()) {
                    last = link.toClient(piece);
                }
                if (owner != null) {
                    owner.last = last;
                }
                closeView();
            }
        }

        private void answer(String name, FetchRequest.Item asked) throws IOException {
            answered.add(asked.responseName());
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
            if (!closeAfter) {
                return;
            }
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

    private static boolean isSeenMarker(String name) {
        return FetchRequest.normalise(name).equals(SEEN_MARKER);
    }
}
