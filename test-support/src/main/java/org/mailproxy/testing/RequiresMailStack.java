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
 * Marks a test class that runs against the loopback mail stack: tags it {@code mailstack}, starts the stack before
 * the class, skips the class with a visible reason where the stack cannot run, and lets test methods, constructors
 * and lifecycle methods take a {@link MailStack} or {@link UpstreamStack} parameter.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag("mailstack")
@ExtendWith(MailStackExtension.class)
public @interface RequiresMailStack {
}
