package org.mailproxy.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** What the proxy offers local clients. Upstream TLS is separate and never optional. */
public record LocalTls(Mode mode, Optional<Path> certFile, Optional<Path> keyFile, List<String> hostnames) {
    public enum Mode { OFF, STARTTLS, IMPLICIT }
}
