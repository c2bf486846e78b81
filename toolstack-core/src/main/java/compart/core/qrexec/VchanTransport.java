package compart.core.qrexec;

import java.time.Duration;

/**
 * How dom0 opens the vchans of qrexec: the control channel of each qube's agent (dom0 is its client) and the data
 * channels of calls that dom0 takes part in (dom0 is the server of a command it runs in a qube, the client of a
 * qube's call to a dom0 service). In production the Xen vchans of libxenvchan ({@link #xen()}); the tests plug in
 * Unix sockets that the unmodified Qubes agent reaches through a vchan shim. Implementations are thread-safe.
 */
public interface VchanTransport {

    /**
     * Connects as client to the vchan that domain {@code serverDomid} serves to dom0 on {@code port}.
     *
     * @throws compart.errors.CompartException HYPERVISOR when that domain has not published it (yet)
     */
    Link connect(int serverDomid, int port);

    /**
     * Publishes dom0's server end of a vchan for domain {@code peerDomid} on {@code port}.
     *
     * @throws compart.errors.CompartException HYPERVISOR when it cannot be published
     */
    Offer offer(int peerDomid, int port);

    /** A published server end that its client has not necessarily connected to yet. */
    interface Offer extends AutoCloseable {
        /**
         * Waits up to {@code timeout} for the peer to connect.
         *
         * @return the connected link (closing it frees the vchan)
         * @throws compart.errors.CompartException TIMEOUT when nobody connected in time
         */
        Link accept(Duration timeout);

        /** Withdraws the offer if nobody connected; no effect after {@link #accept} returned. */
        @Override
        void close();
    }

    /** @return libxenvchan's vchans, under {@code /local/domain/N/data/vchan/PEER/PORT} */
    static VchanTransport xen() {
        return new XenVchanTransport();
    }
}
