/**
 * Orchestration: the {@link compart.core.ops.Toolstack} owns the inventory, the store and the live state; start is
 * a plan of small steps computed by a pure function ({@link compart.core.ops.StartPlanner}) and run by an
 * executor that undoes completed steps on failure; one queue per qube.
 */
package compart.core.ops;
