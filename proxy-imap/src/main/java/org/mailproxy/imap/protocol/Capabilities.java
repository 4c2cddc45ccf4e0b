package org.mailproxy.imap.protocol;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** A provider's capability list, with the questions the proxy asks of it. */
public record Capabilities(List<String> list) {

    public Capabilities {
        list = List.copyOf(list);
    }

    public static Capabilities parse(String text) {
        return new Capabilities(CapabilityFilter.split(text));
    }

    public boolean has(String capability) {
        return upper().contains(capability.toUpperCase(Locale.ROOT));
    }

    /** Non-synchronizing literals of {@code size} octets are allowed upstream (RFC 7888 3 and 4, RFC 9051 4.3). */
    public boolean acceptsNonSyncLiteral(long size) {
        return has("LITERAL+") || ((has("LITERAL-") || has("IMAP4rev2")) && size <= 4096);
    }

    private Set<String> upper() {
        return list.stream().map(s -> s.toUpperCase(Locale.ROOT)).collect(Collectors.toSet());
    }

    @Override
    public String toString() {
        return String.join(" ", list);
    }
}
