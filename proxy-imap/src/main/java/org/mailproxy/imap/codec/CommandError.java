package org.mailproxy.imap.codec;

import org.mailproxy.imap.protocol.ImapError;

/**
 * What {@link ImapCommandDecoder} emits instead of a command it refuses. {@code tag} is null when no valid tag was
 * read (the reply is then untagged). When {@code fatal}, the decoder discards all further input and the session
 * must answer and close.
 */
public record CommandError(String tag, ImapError error, boolean fatal) {
}
