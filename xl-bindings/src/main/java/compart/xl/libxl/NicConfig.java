package compart.xl.libxl;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One network interface of a domain ({@code libxl_device_nic}).
 *
 * @param devid        the interface number in the guest (0 = eth0)
 * @param mac          the MAC address, {@code xx:xx:xx:xx:xx:xx}
 * @param ip           the guest's IP address, for {@code vif-route} style scripts
 * @param backendDomid the domain running the backend (0 = dom0, or the net qube)
 * @param script       the hotplug script, e.g. {@code vif-route}; empty = libxl's default ({@code vif-bridge})
 * @param bridge       the bridge to plug into (for {@code vif-bridge})
 * @param type         PV ({@code vif}) or emulated + PV for HVM ({@code vif_ioemu})
 * @param model        the emulated card for HVM, e.g. {@code e1000}
 */
public record NicConfig(int devid, String mac, Optional<String> ip, int backendDomid, Optional<String> script,
                        Optional<String> bridge, Type type, Optional<String> model) {
    private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3}\\.){3}\\d{1,3}");

    public NicConfig {
        if (devid < 0) {
            throw new IllegalArgumentException("NIC devid must be >= 0, got " + devid);
        }
        Objects.requireNonNull(mac, "mac");
        if (!MAC.matcher(mac).matches()) {
            throw new IllegalArgumentException("NIC MAC must be six lower-case hex pairs like 00:16:3e:5e:6c:01, got '"
                    + mac + "'");
        }
        if ((Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0) {
            throw new IllegalArgumentException("NIC MAC " + mac + " is a multicast address (low bit of first octet)");
        }
        Objects.requireNonNull(ip, "ip");
        ip.ifPresent(a -> {
            if (!IPV4.matcher(a).matches()) {
                throw new IllegalArgumentException("NIC IP must be dotted IPv4, got '" + a + "'");
            }
        });
        if (backendDomid < 0) {
            throw new IllegalArgumentException("NIC backend domid must be >= 0, got " + backendDomid);
        }
        Objects.requireNonNull(script, "script");
        Objects.requireNonNull(bridge, "bridge");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(model, "model");
    }

    /** A PV NIC on a dom0 bridge. */
    public static NicConfig bridged(int devid, String mac, String bridge) {
        return new NicConfig(devid, mac, Optional.empty(), 0, Optional.empty(), Optional.of(bridge), Type.VIF,
                Optional.empty());
    }

    /** NIC types ({@code libxl_nic_type}). */
    public enum Type implements JsonNamed {
        VIF, VIF_IOEMU;
    }
}
