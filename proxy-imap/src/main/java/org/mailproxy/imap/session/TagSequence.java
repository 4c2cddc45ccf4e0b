package org.mailproxy.imap.session;

/**
 * The proxy's own tags towards the provider ({@code mp1}, {@code mp2}...): client tags never go upstream, so a
 * client cannot forge or collide with the proxy's internal commands (SECURITY.md 19). One per upstream connection.
 */
public final class TagSequence {
    private long next = 1;

    public String next() {
        return "mp" + next++;
    }
}
