/**
 * The qrexec policy engine, in the Qubes policy format v5: load the policy directories ({@link
 * compart.policy.Policy#load}), decide calls ({@link compart.policy.Policy#decide}) against the state of the
 * system ({@link compart.policy.SystemInfo}), and get a {@link compart.policy.Resolution} with its audit line.
 */
package compart.policy;
