package org.mailproxy.core.auth;

import java.util.Arrays;
import java.util.Objects;

/**
 * The login name and password the proxy uses at the provider for an account whose clients log in with a local
 * password. Held only while a login is built, then {@link #erase erased}; never logged (SECURITY.md 24).
 */
public record ProviderLogin(String login, byte[] password) {

    public ProviderLogin {
        Objects.requireNonNull(login, "login");
        Objects.requireNonNull(password, "password");
        if (login.isEmpty() || login.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a login name is not empty and has no NUL");
        }
        for (byte b : password) {
            if (b == 0) {
                throw new IllegalArgumentException("a password has no NUL (RFC 4616)");
            }
        }
    }

    public void erase() {
        Arrays.fill(password, (byte) 0);
    }

    @Override
    public String toString() {
        return "ProviderLogin[" + login + "]";
    }
}
