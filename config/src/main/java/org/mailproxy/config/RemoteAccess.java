package org.mailproxy.config;

/**
 * Whether clients on other machines (or other containers) may connect, and whether clients must log in to the proxy
 * itself. A listener beyond loopback exposes the provider account to whoever reaches the port, so it takes an
 * explicit {@code allow-remote-clients = true} (SECURITY.md 22), and then every client logs in with the account's
 * generated local password before anything reaches the provider, which the proxy logs in to with the credentials
 * it keeps encrypted in data-dir.
 *
 * @param allowRemoteClients {@code mailproxy.allow-remote-clients}
 * @param localAuth          {@code mailproxy.local-auth}
 */
public record RemoteAccess(boolean allowRemoteClients, LocalAuth localAuth) {

    /** {@code mailproxy.local-auth}. */
    public enum LocalAuth {
        /** Local passwords when imap.listen or smtp.listen is beyond loopback. */
        AUTO,
        /** Local passwords on every listener, loopback too. */
        ALWAYS
    }

    public static final RemoteAccess DEFAULT = new RemoteAccess(false, LocalAuth.AUTO);

    public RemoteAccess {
        java.util.Objects.requireNonNull(localAuth, "localAuth");
    }
}
