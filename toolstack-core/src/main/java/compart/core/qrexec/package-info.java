/**
 * qrexec: the dom0 side of Qubes' qrexec protocol, versions 3 (Qubes R4.2) and 4 (R4.3), over Xen vchans.
 * {@link compart.core.qrexec.Message} and {@link compart.core.qrexec.MessageCodec} are the wire format;
 * {@link compart.core.qrexec.QrexecDaemon} talks to one qube's agent (what Qubes' per-qube qrexec-daemon is: hello,
 * service triggers checked and refused as Qubes does, data ports freed on {@code MSG_CONNECTION_TERMINATED}, agent
 * restarts) and {@link compart.core.qrexec.QrexecRouter} decides calls with the qrexec policy and connects them:
 * directly between two qubes, to a {@link compart.core.qrexec.Dom0Service}, or from dom0. The vchans come from a
 * {@link compart.core.qrexec.VchanTransport} (Xen in production). A new dom0 service: implement
 * {@code Dom0Service} and register it with {@code QrexecRouter.dom0Service}.
 */
package compart.core.qrexec;
