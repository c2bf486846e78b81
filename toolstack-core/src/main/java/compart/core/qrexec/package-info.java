/**
 * qrexec: the dom0 side of Qubes' qrexec protocol version 3 over Xen vchans. {@link compart.core.qrexec.Message}
 * and {@link compart.core.qrexec.MessageCodec} are the wire format; {@link compart.core.qrexec.QrexecDaemon} talks to
 * one qube's agent and {@link compart.core.qrexec.QrexecRouter} decides and connects calls between qubes and from
 * dom0, with the qrexec policy.
 */
package compart.core.qrexec;
