/**
 * The decrypted view (in progress): telling which messages are encrypted ({@link
 * org.mailproxy.imap.view.EncryptionClassifier}); decrypting them into the account's
 * {@code org.mailproxy.core.cache.MessageCache} and answering FETCH from the decrypted bytes come next.
 */
package org.mailproxy.imap.view;
