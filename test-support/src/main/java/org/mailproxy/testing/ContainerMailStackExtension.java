package org.mailproxy.testing;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstanceFactoryContext;
import org.junit.jupiter.api.extension.TestInstancePreConstructCallback;

/**
 * JUnit 5 extension for tests against the container stack: starts it before the first test (or skips each test
 * with the reason when no container engine is reachable) and injects {@link ContainerMailStack} parameters.
 * Usually applied through {@link RequiresContainerMailStack}. It resolves only the concrete type, so a class may
 * use both stacks: {@link UpstreamStack} parameters go to {@link MailStackExtension}.
 */
public final class ContainerMailStackExtension implements TestInstancePreConstructCallback, BeforeEachCallback,
        ParameterResolver {

    /**
     * Before a test class's constructor, whose parameters may ask for the stack: an abort while resolving a
     * parameter would be reported as an error, an abort here as a skip.
     */
    @Override
    public void preConstructTestInstance(TestInstanceFactoryContext factory, ExtensionContext context) {
        ContainerMailStack.require();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        ContainerMailStack.require();
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
        return parameter.getParameter().getType() == ContainerMailStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
        return ContainerMailStack.require();
    }
}
