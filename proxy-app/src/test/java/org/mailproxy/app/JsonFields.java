package org.mailproxy.app;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * JSON parsed by a real parser (Python's {@code json} module: no JSON library is on the test class path) and
 * flattened to {@code accounts.0.imap.reachable -> true}, each value as JSON text ({@code "ok"} with quotes,
 * {@code null}, {@code true}). Text that is not JSON fails the test.
 */
final class JsonFields {

    private static final String FLATTEN = String.join("\n",
            "import json, sys",
            "def walk(path, v):",
            "    if isinstance(v, dict):",
            "        for k, x in v.items(): walk(path + [k], x)",
            "    elif isinstance(v, list):",
            "        for i, x in enumerate(v): walk(path + [str(i)], x)",
            "    else:",
            "        print('.'.join(path) + '=' + json.dumps(v))",
            "walk([], json.loads(sys.stdin.read()))",
            "");

    private JsonFields() {
    }

    static Map<String, String> parse(String json) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("python3", "-c", FLATTEN).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(json.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("not JSON: " + json + "\n" + out);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            if (!line.isEmpty()) {
                int eq = line.indexOf('=');
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return fields;
    }
}
