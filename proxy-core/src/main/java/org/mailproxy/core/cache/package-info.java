/**
 * The per-account cache of decrypted messages that lets the IMAP side show encrypted mail decrypted without
 * fetching and decrypting a message again for every FETCH. {@link org.mailproxy.core.cache.MessageCache} is the
 * entry point; everything on disk is encrypted under a key that only the account's own OpenPGP key unlocks
 * (SECURITY.md 25), and no file or directory name reveals a mailbox name.
 */
package org.mailproxy.core.cache;
