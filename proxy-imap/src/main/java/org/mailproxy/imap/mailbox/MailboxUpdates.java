package org.mailproxy.imap.mailbox;

import org.mailproxy.imap.codec.ImapToken;
import org.mailproxy.imap.codec.ResponseLine;

import java.util.List;

/** Applies the untagged responses that change sequence numbers or reveal UIDs to a {@link MailboxState}. */
public final class MailboxUpdates {

    private MailboxUpdates() {
    }

    /** Looks at the first piece of an untagged response; anything else is ignored. */
    public static void apply(MailboxState state, ResponseLine line) {
        if (!line.isFirst() || line.kind() != ResponseLine.Kind.UNTAGGED) {
            return;
        }
        switch (line.name()) {
            case "EXISTS" -> state.exists(line.number());
            case "EXPUNGE" -> state.expunge(line.number());
            case "FETCH" -> {
                long uid = fetchUid(line.tokens());
                if (uid > 0) {
                    state.fetched(line.number(), uid);
                }
            }
            case "VANISHED" -> {
                List<ImapToken> t = line.tokens();
                if (!t.isEmpty() && t.get(t.size() - 1) instanceof ImapToken.Atom set) {
                    state.vanished(set.text());
                }
            }
            default -> {
            }
        }
    }

    /** The value of a top-level {@code UID} item in a FETCH response's first piece, or 0. */
    public static long fetchUid(List<ImapToken> tokens) {
        int depth = 0;
        for (int i = 0; i < tokens.size(); i++) {
            ImapToken t = tokens.get(i);
            if (t instanceof ImapToken.Open) {
                depth++;
            } else if (t instanceof ImapToken.Close) {
                depth--;
            } else if (depth == 1 && t instanceof ImapToken.Atom a && a.text().equalsIgnoreCase("UID")
                    && i + 1 < tokens.size() && tokens.get(i + 1) instanceof ImapToken.Atom n) {
                try {
                    return Long.parseLong(n.text());
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }
}
