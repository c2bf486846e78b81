/**
 * The one error type of Compart. Every module reports failures as a {@link compart.errors.CompartException}
 * with an {@link compart.errors.ErrorKind}; the Admin API reply and the CLI exit code map from the kind in one
 * place each. This module depends on nothing, so the modules that must not depend on each other (policy,
 * volumes, xl-bindings) can still share it.
 */
module compart.errors {
    exports compart.errors;
}
