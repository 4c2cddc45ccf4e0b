package org.mailproxy.testing;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension for tests that need the loopback mail stack: starts it before the class (or skips the whole
 * class with the reason when it cannot run here) and injects {@link MailStack} or {@link UpstreamStack} parameters.
 * Usually applied through {@link RequiresMailStack}.
 */
public final class MailStackExtension implements BeforeAllCallback, ParameterResolver {

    @Override
    public void beforeAll(ExtensionContext context) {
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
