package org.mailproxy.app;

import org.mailproxy.config.ConfigError;
import picocli.CommandLine;

import java.io.Console;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Entry point of {@code mailproxy}. Exit codes: 0 success, 1 a failure at run time (an upstream check failed, the
 * daemon could not run), 2 a usage or configuration error. A configuration error prints only its one-line message
 * (file, line, key); there is nothing a stack trace would add for the person fixing the file.
 */
public final class Main {

    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    /** Asks the person at the terminal for a password without echo; {@code null} when there is no terminal. */
    interface PasswordPrompt {
        char[] ask(String prompt);
    }

    /** Asks the person at the terminal for a line of text (echoed); {@code null} at the end of the input. */
    interface LinePrompt {
        String ask(String prompt);
    }

    /**
     * What a command needs from the process; tests pass their own.
     *
     * @param terminal password prompts without echo ({@code null} from the supplier: no terminal)
     * @param lines    questions answered with a line of text ({@code null} from the supplier: no terminal)
     */
    record Environment(Map<String, String> variables, String userHome, PrintWriter out, PrintWriter err,
                       Supplier<PasswordPrompt> terminal, Supplier<LinePrompt> lines) {

        /** An environment whose terminal only answers password prompts. */
        Environment(Map<String, String> variables, String userHome, PrintWriter out, PrintWriter err,
                    Supplier<PasswordPrompt> terminal) {
            this(variables, userHome, out, err, terminal, () -> null);
        }

        static Environment system() {
            Charset cs = Charset.defaultCharset();
            return new Environment(System.getenv(), System.getProperty("user.home"),
                    new PrintWriter(new java.io.OutputStreamWriter(System.out, cs), true),
                    new PrintWriter(new java.io.OutputStreamWriter(System.err, cs), true),
                    () -> {
                        Console console = System.console();
                        return console == null ? null : prompt -> console.readPassword("%s", prompt);
                    },
                    () -> {
                        Console console = System.console();
                        return console == null ? null : prompt -> console.readLine("%s", prompt);
                    });
        }
    }

    private Main() {
    }

    /** {@code --help} on every command, not only the root ({@code mailproxy accounts set-provider-password --help}). */
    private static void helpEverywhere(CommandLine cl) {
        cl.getCommandSpec().mixinStandardHelpOptions(true);
        for (CommandLine sub : cl.getSubcommands().values()) {
            helpEverywhere(sub);
        }
    }

    public static void main(String[] args) {
        int code = run(args, Environment.system());
        System.exit(code);
    }

    static int run(String[] args, Environment environment) {
        CommandLine cl = new CommandLine(new MailproxyCommand(environment));
        helpEverywhere(cl);
        cl.setOut(environment.out());
        cl.setErr(environment.err());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof ConfigError) {
                environment.err().println(e.getMessage());
                return USAGE;
            }
            org.slf4j.LoggerFactory.getLogger(Main.class).debug("command failed", e);
            environment.err().println("mailproxy: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
            return FAILURE;
        });
        int code = cl.execute(args);
        environment.out().flush();
        environment.err().flush();
        return code;
    }
}
