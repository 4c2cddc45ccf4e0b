package org.mailproxy.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs against the container stack: tags it {@code container}, starts the container before
 * the first test, skips each test with a visible reason where no container engine is reachable, and lets tests
 * take a {@link ContainerMailStack} parameter.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag("container")
@ExtendWith(ContainerMailStackExtension.class)
public @interface RequiresContainerMailStack {
}
