/**
 * The policy as data: {@link compart.policy.model.Rule}s made of {@link compart.policy.model.QubeToken}s and an
 * {@link compart.policy.model.Action}. Immutable values, no behaviour beyond validation.
 */
package compart.policy.model;
