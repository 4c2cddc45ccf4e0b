package org.mailproxy.testing;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstanceFactoryContext;
import org.junit.jupiter.api.extension.TestInstancePreConstructCallback;

/**
 * JUnit 5 extension for tests that need the loopback mail stack: starts it before the first test (or skips each
 * test with the reason when it cannot run here) and injects {@link MailStack} or {@link UpstreamStack} parameters.
 * Usually applied through {@link RequiresMailStack}. The skip is per test rather than per class because Maven
 * Surefire reports a class aborted in {@code @BeforeAll} as zero tests, hiding the reason.
 */
public final class MailStackExtension implements TestInstancePreConstructCallback, BeforeEachCallback,
        ParameterResolver {

    /**
     * Before a test class's constructor, whose parameters may ask for the stack: an abort while resolving a
     * parameter would be reported as an error, an abort here as a skip.
     */
    @Override
    public void preConstructTestInstance(TestInstanceFactoryContext factory, ExtensionContext context) {
        MailStack.require();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        MailStack.require();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        Class<?> type = parameter.getParameter().getType();
        return type == MailStack.class || type == UpstreamStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        return MailStack.require();
    }
}
