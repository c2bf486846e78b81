package compart.core.model;

/**
 * The addresses Qubes derives for a qube: IPv4 in 10.137.0.0/16 by qid (10.138.0.0/16 by dispid for DispVMs),
 * avoiding .0 and .255 in the last octet for ids of 255 and above while keeping the plain mapping below 255,
 * and the one MAC address every qube's own interface has.
 */
public final class Addresses {
    /** The MAC of the NIC a qube sees (the same for every qube: each link is point to point). */
    public static final String DEFAULT_MAC = "00:16:3e:5e:6c:00";
    /** The two DNS addresses a networked qube is given (its netvm forwards them). */
    public static final String DNS = "10.139.1.1 10.139.1.2";
    /** The netmask a networked qube sees for its own address. */
    public static final String NETMASK = "255.255.255.255";

    private Addresses() {
    }

    /**
     * @param prefix the first two octets, {@code 10.137} or {@code 10.138}
     * @param id     a qid or dispid, 0..65023
     * @return the IPv4 address for that id
     */
    public static String ipv4(String prefix, int id) {
        if (id < 0) {
            throw new IllegalArgumentException("negative id " + id);
        }
        if (id < 255) {
            return prefix + "." + ((id >> 8) & 0xff) + "." + (id & 0xff);
        }
        int n = id - 1;
        return prefix + "." + (n / 254) + "." + (n % 254 + 1);
    }

    /**
     * @param qube the qube
     * @return its derived IPv4 address (10.138.x.y by dispid for a DispVM, 10.137.x.y by qid otherwise)
     */
    public static String ipv4For(Qube qube) {
        return qube.klass() == QubeClass.DispVM ? ipv4("10.138", qube.dispid()) : ipv4("10.137", qube.qid());
    }
}
