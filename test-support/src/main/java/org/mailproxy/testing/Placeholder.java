package org.mailproxy.testing;

/** Placeholder so the module compiles until the mail stack lands. */
final class Placeholder {
    private Placeholder() {
    }
}
