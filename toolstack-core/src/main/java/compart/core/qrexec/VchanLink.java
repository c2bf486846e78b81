package compart.core.qrexec;

import compart.xl.vchan.Vchan;

import java.util.Objects;

/** A {@link Link} over a libxenvchan end. */
public record VchanLink(Vchan vchan) implements Link {
    public VchanLink {
        Objects.requireNonNull(vchan, "vchan");
    }

    /** The xenstore path where {@code serverDomid} publishes its vchan to {@code peerDomid} on {@code port}. */
    public static String path(int serverDomid, int peerDomid, int port) {
        return "/local/domain/" + serverDomid + "/data/vchan/" + peerDomid + "/" + port;
    }

    @Override
    public int read(byte[] into, int offset, int length) {
        return vchan.read(into, offset, length);
    }

    @Override
    public void write(byte[] bytes) {
        vchan.write(bytes);
    }

    @Override
    public void close() {
        vchan.close();
    }
}
