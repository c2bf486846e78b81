/** The qrexec policy engine: load, evaluate, audit. */
package compart.policy;
