package compart.core.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a method of a topic class ({@link VmLifecycleMethods} …) the handler of Admin API methods, with the
 * rules the {@link Dispatcher} checks before calling it (Qubes' {@code @api.method} decorator). The handler takes a
 * {@link Call} and returns the reply payload, or returns nothing for an empty reply. In a name, {@code {class}}
 * stands for each class of qube the Admin API creates and {@code {device}} for each device class.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Handles {
    /** @return the method names ({@code admin.vm.Start}) */
    String[] value();

    /** @return the argument rule */
    Arg arg() default Arg.NONE;

    /** @return the payload rule */
    Payload payload() default Payload.NONE;

    /** @return the destination rule */
    Dest dest() default Dest.ANY;

    /** @return what a failure is about (picks the Qubes exception class) */
    Topic topic() default Topic.GENERAL;
}
