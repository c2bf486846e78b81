package compart.core.qrexec;

import compart.errors.CompartException;
import compart.errors.ErrorKind;
import compart.xl.vchan.Vchan;
import java.time.Duration;

/** {@link VchanTransport} over libxenvchan. Stateless. */
final class XenVchanTransport implements VchanTransport {
    private static final int RING = 65536;

    @Override
    public Link connect(int serverDomid, int port) {
        return new VchanLink(Vchan.client(serverDomid, VchanLink.path(serverDomid, 0, port)));
    }

    @Override
    public Offer offer(int peerDomid, int port) {
        Vchan vchan = Vchan.server(peerDomid, VchanLink.path(0, peerDomid, port), RING, RING);
        return new Offer() {
            private boolean accepted;

            @Override
            public Link accept(Duration timeout) {
                long deadline = System.nanoTime() + timeout.toNanos();
                while (vchan.state() == Vchan.State.WAITING_FOR_CLIENT) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new CompartException(ErrorKind.TIMEOUT, "qrexec: domain " + peerDomid + " did not "
                                + "connect to data port " + port + " within " + timeout.toSeconds() + " s");
                    }
                    vchan.awaitEvent(Duration.ofNanos(Math.min(left, 200_000_000L)));
                }
                accepted = true;
                return new VchanLink(vchan);
            }

            @Override
            public void close() {
                if (!accepted) {
                    vchan.close();
                }
            }
        };
    }
}
