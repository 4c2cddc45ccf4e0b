package org.mailproxy.imap.view;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A client's {@code FETCH} or {@code UID FETCH} (RFC 9051 §6.4.5), read far enough for the decrypted view: the
 * sequence set and every requested item with its section and partial, so that each item of the provider's answer can
 * be matched to what the client asked for (the answer names a partial only by its origin, {@code BODY[]<0>}, so the
 * count comes from here). Modifiers after the item list ({@code (CHANGEDSINCE 7 VANISHED)}) are kept as they are.
 */
public record FetchRequest(boolean uid, String sequenceSet, List<Item> items, long changedSinceModseq, String modifiers) {

    /** What an item is about. */
    public enum Kind {
        /** Octets of the message or of a section: {@code BODY[...]}, {@code RFC822}, {@code RFC822.HEADER/TEXT}. */
        SECTION,
        SIZE,
        BODYSTRUCTURE,
        BODY,
        ENVELOPE,
        /**
         * {@code BINARY[...]}, {@code BINARY.SIZE[...]}: not answered by the view; BINARY is not advertised, so a
         * client that sends it anyway gets the provider's answer about the stored (encrypted) message.
         */
        BINARY,
        /** Anything the provider answers the same for the view: FLAGS, UID, INTERNALDATE, MODSEQ, extensions. */
        OTHER
    }

    /**
     * One requested item. {@code section} is the section spec between the brackets, upper-cased and with single
     * spaces ({@code HEADER.FIELDS (FROM TO)}); {@code origin}/{@code count} are the partial, -1 when absent.
     *
     * @param responseName the name the provider answers it under, normalised ({@link #normalise})
     */
    public record Item(Kind kind, String name, String section, long origin, long count, String responseName) {

        /** Whether the answer depends on the message's content (and so on the view for an encrypted message). */
        public boolean content() {
            return kind != Kind.OTHER && kind != Kind.BINARY;
        }
    }

    /** The command does not parse as a FETCH the view understands (the provider judges it instead). */
    public static final class Unparsed extends Exception {
        Unparsed(String message) {
            super(message, null, false, false);
        }
    }

    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,19}");

    /** The CONDSTORE modifier to repeat on the proxy's own probe (RFC 7162 §3.1.4), or "". */
    public String changedSince() {
        return changedSinceModseq < 0 ? "" : " (CHANGEDSINCE " + changedSinceModseq + ")";
    }

    /** Whether some section item would set \Seen (a BODY[...] or RFC822/RFC822.TEXT without PEEK). */
    public boolean setsSeen() {
        return items.stream().anyMatch(i -> i.name().equals("BODY") && i.section() != null
                || i.name().equals("RFC822") || i.name().equals("RFC822.TEXT"));
    }

    /**
     * The upstream command (without tag) for messages whose every content item the view answers: the same FETCH with only the
     * items the provider must answer (UID always, and {@code seenMarker} when the client's items would set \Seen),
     * so the stored (encrypted) octets are not sent only to be dropped.
     */
    public String withoutContent(String seenMarker) {
        StringBuilder out = new StringBuilder(uid ? "UID FETCH " : "FETCH ").append(sequenceSet).append(" (UID");
        for (Item i : items) {
            if (i.kind() == Kind.OTHER && !i.name().equals("UID")) {
                out.append(' ').append(i.name());
            }
        }
        if (setsSeen()) {
            out.append(' ').append(seenMarker);
        }
        out.append(')');
        if (!modifiers.isEmpty()) {
            out.append(' ').append(modifiers);
        }
        return out.toString();
    }

    /** Whether any item depends on the message's content. */
    public boolean needsContent() {
        return items.stream().anyMatch(Item::content);
    }

    /** Whether the client asked for the UID (a UID FETCH always gets it, RFC 9051 §6.4.9). */
    public boolean wantsUid() {
        return uid || items.stream().anyMatch(i -> i.name().equals("UID"));
    }

    /** The requested item that an answer item named {@code responseName} (as the provider wrote it) answers. */
    public Optional<Item> answeredBy(String responseName) {
        String n = normalise(responseName);
        for (Item i : items) {
            if (i.responseName().equals(n)) {
                return Optional.of(i);
            }
        }
        return Optional.empty();
    }

    /**
     * Parses the arguments of {@code FETCH} (after the verb), or of {@code UID} when {@code uid} (then they start
     * with {@code FETCH}).
     */
    public static FetchRequest parse(String arguments, boolean uid) throws Unparsed {
        Tokens t = new Tokens(arguments);
        if (uid) {
            String verb = t.atom();
            if (!"FETCH".equalsIgnoreCase(verb)) {
                throw new Unparsed("not UID FETCH");
            }
            t.space();
        }
        String set = t.atom();
        if (set.isEmpty()) {
            throw new Unparsed("sequence set expected");
        }
        t.space();
        List<Item> items = new ArrayList<>();
        if (t.peek() == '(') {
            t.next();
            while (t.peek() != ')') {
                items.add(item(t));
                if (t.peek() == ' ') {
                    t.next();
                } else if (t.peek() != ')') {
                    throw new Unparsed("space or ')' expected in the item list");
                }
            }
            t.next();
        } else {
            int mark = t.pos;
            String word = t.atom().toUpperCase(Locale.ROOT);
            switch (word) {
                case "ALL" -> items.addAll(List.of(simple("FLAGS"), simple("INTERNALDATE"), simple("RFC822.SIZE"),
                        simple("ENVELOPE")));
                case "FAST" -> items.addAll(List.of(simple("FLAGS"), simple("INTERNALDATE"), simple("RFC822.SIZE")));
                case "FULL" -> items.addAll(List.of(simple("FLAGS"), simple("INTERNALDATE"), simple("RFC822.SIZE"),
                        simple("ENVELOPE"), simple("BODY")));
                default -> {
                    t.pos = mark;
                    items.add(item(t));
                }
            }
        }
        if (items.isEmpty()) {
            throw new Unparsed("no fetch items");
        }
        String rest = t.s.substring(t.pos).toUpperCase(Locale.ROOT);
        long changedSince = -1;
        int cs = rest.indexOf("CHANGEDSINCE ");
        if (cs >= 0) {
            Matcher m = NUMBER.matcher(rest.substring(cs + "CHANGEDSINCE ".length()));
            if (m.lookingAt()) {
                changedSince = Long.parseLong(m.group());
            }
        }
        return new FetchRequest(uid, set, List.copyOf(items), changedSince, t.s.substring(t.pos).trim());
    }

    private static Item simple(String name) {
        return new Item(kindOf(name, false), name, null, -1, -1, name);
    }

    private static Item item(Tokens t) throws Unparsed {
        String name = t.name().toUpperCase(Locale.ROOT);
        if (name.isEmpty()) {
            throw new Unparsed("fetch item expected");
        }
        if (!t.at('[')) {
            if (name.equals("BODY.PEEK") || name.equals("BINARY") || name.equals("BINARY.PEEK")) {
                throw new Unparsed(name + " needs a section");
            }
            return simple(name);
        }
        t.next();
        String section = t.section();
        long origin = -1;
        long count = -1;
        if (t.at('<')) {
            t.next();
            String partial = t.until('>');
            int dot = partial.indexOf('.');
            try {
                origin = Long.parseLong(dot < 0 ? partial : partial.substring(0, dot));
                count = dot < 0 ? -1 : Long.parseLong(partial.substring(dot + 1));
            } catch (NumberFormatException e) {
                throw new Unparsed("bad partial");
            }
            if (origin < 0 || dot >= 0 && count <= 0) {
                throw new Unparsed("bad partial");
            }
        }
        String base = switch (name) {
            case "BODY", "BODY.PEEK" -> "BODY";
            case "BINARY", "BINARY.PEEK" -> "BINARY";
            case "BINARY.SIZE" -> "BINARY.SIZE";
            default -> throw new Unparsed("no section allowed after " + name);
        };
        String response = base + "[" + section + "]" + (origin >= 0 ? "<" + origin + ">" : "");
        Kind kind = base.equals("BODY") ? Kind.SECTION : Kind.BINARY;
        return new Item(kind, name, section, origin, count, normalise(response));
    }

    private static Kind kindOf(String name, boolean section) {
        return switch (name) {
            case "RFC822", "RFC822.HEADER", "RFC822.TEXT" -> Kind.SECTION;
            case "RFC822.SIZE" -> Kind.SIZE;
            case "BODYSTRUCTURE" -> Kind.BODYSTRUCTURE;
            case "BODY" -> section ? Kind.SECTION : Kind.BODY;
            case "ENVELOPE" -> Kind.ENVELOPE;
            default -> Kind.OTHER;
        };
    }

    /**
     * An item name as compared between request and answer: upper case, quotes removed, one space between words,
     * none inside brackets or parentheses next to the brackets ({@code BODY[HEADER.FIELDS (FROM TO)]<0>}).
     */
    public static String normalise(String name) {
        StringBuilder out = new StringBuilder(name.length());
        boolean space = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '"') {
                continue;
            }
            if (c == ' ' || c == '\t') {
                space = true;
                continue;
            }
            if (space && out.length() > 0 && c != ')' && c != ']' && c != '<'
                    && "([".indexOf(out.charAt(out.length() - 1)) < 0) {
                out.append(' ');
            }
            space = false;
            out.append(Character.toUpperCase(c));
        }
        return out.toString();
    }

    /** A tiny cursor over the argument text. */
    private static final class Tokens {
        private final String s;
        private int pos;

        Tokens(String s) {
            this.s = s;
        }

        char peek() throws Unparsed {
            if (pos >= s.length()) {
                throw new Unparsed("unexpected end of command");
            }
            return s.charAt(pos);
        }

        /** Whether the next character is {@code c} (false at the end). */
        boolean at(char c) {
            return pos < s.length() && s.charAt(pos) == c;
        }

        char next() throws Unparsed {
            char c = peek();
            pos++;
            return c;
        }

        void space() throws Unparsed {
            if (next() != ' ') {
                throw new Unparsed("space expected");
            }
        }

        /** Characters up to a space, '(' or ')' or the end. */
        String atom() {
            int start = pos;
            while (pos < s.length() && " ()".indexOf(s.charAt(pos)) < 0) {
                pos++;
            }
            return s.substring(start, pos);
        }

        /** An item name: up to a space, bracket, '<' or parenthesis. */
        String name() {
            int start = pos;
            while (pos < s.length() && " ()[<".indexOf(s.charAt(pos)) < 0) {
                pos++;
            }
            return s.substring(start, pos);
        }

        /** The section spec up to its closing bracket (quoted header names may hold anything but a quote). */
        String section() throws Unparsed {
            StringBuilder out = new StringBuilder();
            boolean quoted = false;
            while (true) {
                char c = next();
                if (quoted) {
                    if (c == '\\') {
                        out.append(next());
                        continue;
                    }
                    if (c == '"') {
                        quoted = false;
                    }
                    out.append(c);
                    continue;
                }
                if (c == '"') {
                    quoted = true;
                    out.append(c);
                } else if (c == ']') {
                    return normalise(out.toString());
                } else if (c == '{') {
                    throw new Unparsed("literal in a section spec");
                } else {
                    out.append(c);
                }
            }
        }

        String until(char end) throws Unparsed {
            int start = pos;
            while (peek() != end) {
                pos++;
            }
            String r = s.substring(start, pos);
            pos++;
            return r;
        }
    }
}
