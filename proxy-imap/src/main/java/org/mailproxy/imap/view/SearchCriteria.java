package org.mailproxy.imap.view;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The criteria of a client's SEARCH (RFC 9051 §6.4.4), read far enough to find the keys whose answer depends on a
 * message's content (BODY, TEXT, SUBJECT, FROM, TO, CC, BCC, HEADER, LARGER, SMALLER). For encrypted mail the
 * provider can only evaluate those against the ciphertext, so the view evaluates them itself against the decrypted
 * messages and {@link #rewrite}s each such key {@code K} into {@code OR (NOT UID <view> K) (UID <matches>)}: the
 * provider still evaluates everything else (flags, dates, sets, NOT/OR, RETURN options) for every message, and K
 * itself for the messages that are not encrypted.
 */
public final class SearchCriteria {

    private static final Set<String> NO_ARGUMENT = Set.of("ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW",
            "OLD", "RECENT", "SEEN", "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "SAVEDATESUPPORTED",
            "$");
    private static final Set<String> ONE_ARGUMENT = Set.of("BCC", "BEFORE", "BODY", "CC", "FROM", "KEYWORD", "ON",
            "SENTBEFORE", "SENTON", "SENTSINCE", "SINCE", "SUBJECT", "TEXT", "TO", "UNKEYWORD", "UID", "LARGER",
            "SMALLER", "OLDER", "YOUNGER", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE", "EMAILID", "THREADID", "FILTER",
            "X-GM-RAW", "X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS");
    private static final Set<String> CONTENT = Set.of("BODY", "TEXT", "SUBJECT", "FROM", "TO", "CC", "BCC", "HEADER",
            "LARGER", "SMALLER");

    /** A content key and its arguments (upper-case name; HEADER has the field name and the value). */
    public record Key(String name, List<String> arguments) {
    }

    /** The criteria are not something the view can read (the provider judges them as they are). */
    public static final class Unparsed extends Exception {
        Unparsed(String message) {
            super(message, null, false, false);
        }
    }

    private sealed interface Token {
    }

    private record Word(String text) implements Token {
    }

    /** A string argument; {@code octets} when it came as a literal (and goes upstream as one). */
    private record Str(String text, byte[] octets) implements Token {
        Str(String text) {
            this(text, null);
        }
    }

    private record Paren(boolean open) implements Token {
    }

    /** A content key's place: tokens [start, end). */
    private record Place(int start, int end, Key key) {
    }

    private final List<Token> tokens;
    private final List<Place> places;

    private final List<byte[]> literals = new ArrayList<>();

    private SearchCriteria(List<Token> tokens, List<Place> places) {
        this.tokens = tokens;
        this.places = places;
        for (Token t : tokens) {
            if (t instanceof Str s && s.octets() != null) {
                literals.add(s.octets());
            }
        }
    }

    /** The content keys, in order. */
    public List<Key> contentKeys() {
        return places.stream().map(Place::key).toList();
    }

    /** The arguments of {@code SEARCH} (after the verb, or after {@code SEARCH} of {@code UID SEARCH}). */
    public static SearchCriteria parse(String arguments) throws Unparsed {
        return parse(List.of(arguments));
    }

    /**
     * Arguments that came in pieces: text (a {@code String}) and, between pieces, the octets of a literal (a
     * {@code byte[]}, decoded as UTF-8 for matching, sent upstream as the same octets).
     */
    public static SearchCriteria parse(List<Object> parts) throws Unparsed {
        List<Token> tokens = new ArrayList<>();
        for (Object part : parts) {
            if (part instanceof byte[] literal) {
                tokens.add(new Str(new String(literal, java.nio.charset.StandardCharsets.UTF_8), literal));
            } else {
                tokens.addAll(tokenize((String) part));
            }
        }
        return ofTokens(tokens);
    }

    private static SearchCriteria ofTokens(List<Token> tokens) throws Unparsed {
        int i = 0;
        if (i < tokens.size() && tokens.get(i) instanceof Word w && w.text().equalsIgnoreCase("RETURN")) {
            i++;
            if (i >= tokens.size() || !(tokens.get(i) instanceof Paren p && p.open())) {
                throw new Unparsed("RETURN needs a list");
            }
            int depth = 0;
            do {
                if (tokens.get(i) instanceof Paren paren) {
                    depth += paren.open() ? 1 : -1;
                }
                i++;
            } while (depth > 0 && i < tokens.size());
        }
        if (i < tokens.size() && tokens.get(i) instanceof Word c && c.text().equalsIgnoreCase("CHARSET")) {
            i += 2;
        }
        int start = i;
        List<Place> places = new ArrayList<>();
        while (i < tokens.size()) {
            i = key(tokens, i, places);
        }
        if (start >= tokens.size()) {
            throw new Unparsed("no search criteria");
        }
        return new SearchCriteria(tokens, places);
    }

    /** Reads one search key at {@code i}; returns the index after it. */
    private static int key(List<Token> tokens, int i, List<Place> places) throws Unparsed {
        Token t = tokens.get(i);
        if (t instanceof Paren p) {
            if (!p.open()) {
                throw new Unparsed("unbalanced parenthesis");
            }
            i++;
            while (i < tokens.size() && !(tokens.get(i) instanceof Paren q && !q.open())) {
                i = key(tokens, i, places);
            }
            if (i >= tokens.size()) {
                throw new Unparsed("unbalanced parenthesis");
            }
            return i + 1;
        }
        if (!(t instanceof Word w)) {
            throw new Unparsed("search key expected");
        }
        String name = w.text().toUpperCase(Locale.ROOT);
        switch (name) {
            case "NOT" -> {
                return key(tokens, need(tokens, i + 1), places);
            }
            case "OR" -> {
                int next = key(tokens, need(tokens, i + 1), places);
                return key(tokens, need(tokens, next), places);
            }
            case "HEADER" -> {
                need(tokens, i + 2);
                places.add(new Place(i, i + 3, new Key(name, List.of(text(tokens.get(i + 1)), text(tokens.get(i + 2))))));
                return i + 3;
            }
            case "MODSEQ" -> {
                need(tokens, i + 1);
                return tokens.get(i + 1) instanceof Str ? need(tokens, i + 3) + 1 : i + 2;
            }
            default -> {
                if (CONTENT.contains(name)) {
                    need(tokens, i + 1);
                    places.add(new Place(i, i + 2, new Key(name, List.of(text(tokens.get(i + 1))))));
                    return i + 2;
                }
                if (ONE_ARGUMENT.contains(name)) {
                    need(tokens, i + 1);
                    return i + 2;
                }
                if (NO_ARGUMENT.contains(name) || name.matches("[0-9*:,$]+")) {
                    return i + 1;
                }
                throw new Unparsed("unknown search key " + name);
            }
        }
    }

    private static int need(List<Token> tokens, int i) throws Unparsed {
        if (i >= tokens.size()) {
            throw new Unparsed("search key without its argument");
        }
        return i;
    }

    private static String text(Token t) throws Unparsed {
        if (t instanceof Word w) {
            return w.text();
        }
        if (t instanceof Str s) {
            return s.text();
        }
        throw new Unparsed("argument expected");
    }

    /**
     * The criteria with every content key answered for the view messages: {@code matches} gives, per content key
     * (in {@link #contentKeys} order), the UIDs of the view messages that match it.
     */
    public String rewrite(Set<Long> viewUids, List<Set<Long>> matches) {
        List<Object> parts = rewriteParts(viewUids, matches);
        if (parts.size() != 1) {
            throw new IllegalStateException("the criteria hold literals: use rewriteParts");
        }
        return (String) parts.get(0);
    }

    /**
     * {@link #rewrite} for criteria with literals: text ({@code String}) and literal octets ({@code byte[]}) in
     * order; the text before a literal ends where its {@code {n}} marker goes.
     */
    public List<Object> rewriteParts(Set<Long> viewUids, List<Set<Long>> matches) {
        List<Object> parts = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        int p = 0;
        for (int i = 0; i < tokens.size(); ) {
            Place place = p < places.size() && places.get(p).start() == i ? places.get(p) : null;
            if (place != null && !viewUids.isEmpty()) {
                String original = serialize(i, place.end());
                Set<Long> m = matches.get(p);
                space(out);
                String outside = "(NOT UID " + uidSet(viewUids) + " " + original + ")";
                out.append(m.isEmpty() ? outside : "OR " + outside + " (UID " + uidSet(m) + ")");
                i = place.end();
                p++;
                continue;
            }
            if (place != null) {
                p++;
            }
            Token t = tokens.get(i);
            if (!(t instanceof Paren q && !q.open()) && !(out.length() > 0 && out.charAt(out.length() - 1) == '(')) {
                space(out);
            }
            out.append(serialize(i, i + 1));
            i++;
        }
        String text = out.toString().strip();
        // split at the literal markers serialize() left
        int from = 0;
        int at;
        while ((at = text.indexOf(LITERAL_MARK, from)) >= 0) {
            int end = text.indexOf(LITERAL_END, at + LITERAL_MARK.length());
            int index = Integer.parseInt(text.substring(at + LITERAL_MARK.length(), end));
            parts.add(text.substring(from, at));
            parts.add(literals.get(index));
            from = end + LITERAL_END.length();
        }
        parts.add(text.substring(from));
        return parts;
    }

    private static final String LITERAL_MARK = "\u0000L";
    private static final String LITERAL_END = "\u0000";

    private static void space(StringBuilder out) {
        if (out.length() > 0 && out.charAt(out.length() - 1) != ' ' && out.charAt(out.length() - 1) != '(') {
            out.append(' ');
        }
    }

    private String serialize(int from, int to) {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < to; i++) {
            Token t = tokens.get(i);
            if (t instanceof Paren p) {
                if (p.open()) {
                    if (out.length() > 0) {
                        out.append(' ');
                    }
                    out.append('(');
                } else {
                    out.append(')');
                }
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != '(') {
                out.append(' ');
            }
            if (t instanceof Word w) {
                out.append(w.text());
            } else if (t instanceof Str s && s.octets() != null) {
                out.append(LITERAL_MARK).append(literals.indexOf(s.octets())).append(LITERAL_END);
            } else if (t instanceof Str s) {
                out.append('"').append(s.text().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
        }
        return out.toString();
    }

    /** A UID set in the compact form ({@code 3:5,9}). */
    static String uidSet(Set<Long> uids) {
        List<Long> sorted = uids.stream().sorted().collect(Collectors.toList());
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(sorted.get(i));
            if (j > i) {
                out.append(':').append(sorted.get(j));
            }
            i = j + 1;
        }
        return out.toString();
    }

    private static List<Token> tokenize(String s) throws Unparsed {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ') {
                i++;
            } else if (c == '(' || c == ')') {
                out.add(new Paren(c == '('));
                i++;
            } else if (c == '"') {
                StringBuilder b = new StringBuilder();
                i++;
                while (true) {
                    if (i >= s.length()) {
                        throw new Unparsed("unterminated quoted string");
                    }
                    char d = s.charAt(i++);
                    if (d == '\\' && i < s.length()) {
                        b.append(s.charAt(i++));
                    } else if (d == '"') {
                        break;
                    } else {
                        b.append(d);
                    }
                }
                out.add(new Str(b.toString()));
            } else if (c == '{') {
                throw new Unparsed("literal in search criteria");
            } else {
                int start = i;
                while (i < s.length() && " ()\"".indexOf(s.charAt(i)) < 0) {
                    i++;
                }
                out.add(new Word(s.substring(start, i)));
            }
        }
        return out;
    }

    /** For tests: the criteria as parsed (tokens re-serialised). */
    @Override
    public String toString() {
        return serialize(0, tokens.size());
    }
}
