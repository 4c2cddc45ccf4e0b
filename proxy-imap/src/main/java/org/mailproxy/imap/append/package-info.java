/**
 * Encrypting what a client APPENDs to its Drafts and Sent mailboxes ({@code mailproxy.imap.encrypt-appends}), so
 * that the provider never holds a draft or a sent copy in clear.
 *
 * <p>{@link org.mailproxy.imap.append.AppendFolders} (one per session) decides which mailboxes: it learns the
 * SPECIAL-USE attributes (RFC 6154) from the untagged LIST, LSUB and XLIST responses the session relays, follows
 * DELETE and RENAME, and knows the configured names. When a client APPENDs before anything told the session about
 * its mailboxes, {@link org.mailproxy.imap.append.AppendFolders#needsDiscovery()} asks the session to send
 * {@link org.mailproxy.imap.append.AppendFolders#discoveryCommand} upstream first, with its own tag, and to feed the
 * untagged answers to it instead of the client.
 *
 * <p>{@link org.mailproxy.imap.append.DraftEncryptor} turns the client's literal into PGP/MIME encrypted to the
 * account's own key ({@link org.mailproxy.imap.append.DraftEncryptor#ownKey}) and signed by it, with the header
 * protected (RFC 9788), into a spool whose size is the literal the session then announces upstream. The APPEND's
 * mailbox, flags and date go upstream as the client sent them, and the server's tagged answer (APPENDUID,
 * RFC 4315 §3) goes back unchanged.
 */
package org.mailproxy.imap.append;
