package org.mailproxy.app;

import java.nio.file.Path;
import java.util.Map;

/**
 * Which configuration file a command reads: {@code --config FILE}, else {@code $MAILPROXY_CONFIG}, else
 * {@code ~/.config/mailproxy/mailproxy.conf} (under {@code $XDG_CONFIG_HOME} when that is set, as the XDG base
 * directory specification asks).
 */
final class ConfigLocation {

    private ConfigLocation() {
    }

    static Path resolve(Path option, Map<String, String> env, String userHome) {
        if (option != null) {
            return option;
        }
        String fromEnv = env.get("MAILPROXY_CONFIG");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        String xdg = env.get("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute() ? Path.of(xdg) : Path.of(userHome, ".config");
        return base.resolve("mailproxy").resolve("mailproxy.conf");
    }
}
