/**
 * The decrypted view (in progress): telling which messages are encrypted ({@link
 * org.mailproxy.imap.view.EncryptionClassifier}) and decrypting each once into the account's
 * {@code org.mailproxy.core.cache.MessageCache} ({@link org.mailproxy.imap.view.DecryptedMessages}); header sections
 * and the ENVELOPE of a decrypted message ({@link org.mailproxy.imap.view.HeaderSections},
 * {@link org.mailproxy.imap.view.EnvelopeBuilder}); its MIME structure for BODYSTRUCTURE, BODY and section fetches,
 * computed once and kept in the cache entry's metadata ({@link org.mailproxy.imap.view.MessageStructure}). Fetching messages with the proxy's own upstream commands and
 * answering FETCH from the decrypted bytes come next.
 */
package org.mailproxy.imap.view;
