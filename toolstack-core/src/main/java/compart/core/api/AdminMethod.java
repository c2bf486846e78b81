package compart.core.api;

/**
 * One Admin API method: its name, the rules the dispatcher checks before calling it, the topic that picks the
 * Qubes exception class of a failure, and the handler (declared with {@link Handles}).
 *
 * @param name        the method ({@code admin.vm.Start})
 * @param arg         the argument rule
 * @param payload     the payload rule
 * @param dest        the destination rule
 * @param topic       what it is about ({@link ExceptionTypes})
 * @param handlerName the name of the Java method that handles it ({@code vmStart})
 * @param handler     the handler
 */
record AdminMethod(String name, Arg arg, Payload payload, Dest dest, Topic topic, String handlerName,
                   Handler handler) {
    /** A handler: decode the call, make one call into {@code core.ops}, encode the reply payload (null: none). */
    @FunctionalInterface
    interface Handler {
        /**
         * @param call the checked call
         * @return the reply payload, null for none
         */
        String handle(Call call);
    }
}
