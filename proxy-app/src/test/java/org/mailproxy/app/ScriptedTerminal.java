package org.mailproxy.app;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * A terminal that answers questions and password prompts from a script, in order, and records every prompt;
 * prompts answered without echo are recorded with {@link #NO_ECHO} in front. An exhausted script answers
 * {@code null}, as a terminal at the end of its input does.
 */
final class ScriptedTerminal {

    static final String NO_ECHO = "(no echo) ";

    final List<String> prompts = new ArrayList<>();
    private final Deque<String> answers;

    ScriptedTerminal(String... answers) {
        this.answers = new ArrayDeque<>(Arrays.asList(answers));
    }

    private Main.LinePrompt lines() {
        return prompt -> {
            prompts.add(prompt);
            return answers.poll();
        };
    }

    private Main.PasswordPrompt passwords() {
        return prompt -> {
            prompts.add(NO_ECHO + prompt);
            String a = answers.poll();
            return a == null ? null : a.toCharArray();
        };
    }

    /** Answers left over: a test that scripted the dialog exactly expects none. */
    List<String> unused() {
        return List.copyOf(answers);
    }

    /** Runs the command line in-process with this terminal. */
    TestFiles.Run run(Map<String, String> env, Path home, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new Main.Environment(env, home.toString(), new PrintWriter(out, true),
                new PrintWriter(err, true), this::passwords, this::lines));
        return new TestFiles.Run(code, out.toString(), err.toString());
    }
}
