/** The policy commands: {@code qrexec-policy-eval} and {@code qubes-policy-lint}. */
package compart.policy.cli;
