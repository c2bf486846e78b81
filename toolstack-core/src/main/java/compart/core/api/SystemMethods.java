package compart.core.api;

import static compart.core.api.AdminText.lines;

import compart.core.ops.QubeOps;
import compart.core.ops.Toolstack;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * A qube's notes ({@code admin.vm.notes.*}) and firewall ({@code admin.vm.firewall.*}), the device classes and
 * devices (none yet: the lists are truly empty).
 */
record SystemMethods(Toolstack toolstack, QubeOps qubes) {
    static final List<String> DEVICE_CLASSES = List.of("block", "mic", "pci", "usb");

    @Handles(value = "admin.vm.notes.Get", dest = Dest.NOT_ADMIN)
    String vmNotesGet(Call c) {
        return c.dest().notes();
    }

    @Handles(value = "admin.vm.notes.Set", payload = Payload.OPTIONAL, dest = Dest.NOT_ADMIN)
    void vmNotesSet(Call c) {
        if (c.untrustedPayload().length > 256000) {
            throw new CompartException(ErrorKind.PROTOCOL, "Maximum note size is 256000 bytes");
        }
        var notes = new StringBuilder();
        new String(c.untrustedPayload(), StandardCharsets.UTF_8).codePoints().forEach(cp ->
                notes.appendCodePoint(cp == '\t' || cp == '\n' || (cp >= 0x20 && cp != 0x7f && cp != 0xfffd
                        && !Character.isISOControl(cp) && Character.getType(cp) != Character.FORMAT) ? cp : '_'));
        toolstack.change(inv -> inv.withQube(inv.qube(c.destName()).withNotes(notes.toString())));
    }

    @Handles(value = "admin.vm.firewall.Get", dest = Dest.NOT_ADMIN)
    String vmFirewallGet(Call c) {
        long now = Instant.now().getEpochSecond();
        return lines(c.dest().firewall().stream().filter(r -> !FirewallRules.expired(r, now)));
    }

    @Handles(value = "admin.vm.firewall.Set", payload = Payload.OPTIONAL, dest = Dest.NOT_ADMIN)
    void vmFirewallSet(Call c) {
        var rules = FirewallRules.parse(c.payloadAscii());
        toolstack.change(inv -> inv.withQube(inv.qube(c.destName()).withFirewall(rules)));
    }

    @Handles(value = "admin.vm.firewall.Reload", dest = Dest.NOT_ADMIN)
    void vmFirewallReload(Call c) {
        qubes.reloadFirewall(c.destName());
    }

    @Handles(value = "admin.deviceclass.List", dest = Dest.ADMIN)
    String deviceclassList(Call c) {
        return lines(DEVICE_CLASSES.stream());
    }

    /** The devices of a class a qube could have (Compart exposes no devices yet: truly empty). */
    @Handles(value = "admin.vm.device.{device}.Available", arg = Arg.OPTIONAL)
    String vmDeviceAvailable(Call c) {
        return "";
    }

    /** The devices of a class assigned to a qube (none yet). */
    @Handles(value = "admin.vm.device.{device}.Assigned", arg = Arg.OPTIONAL)
    String vmDeviceAssigned(Call c) {
        return "";
    }

    /** The devices of a class attached to a qube (none yet). */
    @Handles(value = "admin.vm.device.{device}.Attached", arg = Arg.OPTIONAL)
    String vmDeviceAttached(Call c) {
        return "";
    }

    /** The device classes denied to a qube (none yet). */
    @Handles("admin.vm.device.denied.List")
    String vmDeviceDeniedList(Call c) {
        return "";
    }
}
