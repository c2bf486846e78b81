/** The policy daemon: the {@code qrexec-policy-daemon} socket protocol of Qubes. */
package compart.policy.daemon;
