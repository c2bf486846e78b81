package compart.core.api;

import static compart.core.api.AdminText.lines;
import static compart.core.api.AdminText.validateNumber;

import compart.core.model.PoolDefinition;
import compart.core.model.VolumeDefinition;
import compart.core.ops.PoolOps;
import compart.errors.CompartException;
import compart.errors.ErrorKind;
import java.util.TreeMap;

/** The storage pools ({@code admin.pool.*}); the work is {@link PoolOps}'. */
record PoolMethods(PoolOps pools) {
    @Handles(value = "admin.pool.List", dest = Dest.ADMIN, topic = Topic.STORAGE)
    String poolList(Call c) {
        return lines(c.inv().pools().keySet().stream());
    }

    @Handles(value = "admin.pool.ListDrivers", dest = Dest.ADMIN, topic = Topic.STORAGE)
    String poolListDrivers(Call c) {
        return lines(PoolOps.poolDriverParameters().entrySet().stream()
                .map(e -> e.getKey() + " " + String.join(" ", e.getValue())));
    }

    @Handles(value = "admin.pool.Info", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.STORAGE)
    String poolInfo(Call c) {
        var p = pool(c);
        var info = new TreeMap<String, String>(p.info());
        pools.poolUsage(p).ifPresent(u -> {
            info.put("size", Long.toString(u.size()));
            info.put("usage", Long.toString(u.used()));
        });
        info.putAll(pools.poolFigures(p));
        return lines(info.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()));
    }

    @Handles(value = "admin.pool.UsageDetails", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.STORAGE)
    String poolUsageDetails(Call c) {
        return pools.poolUsage(pool(c)).map(x -> "data_size=" + x.size() + "\ndata_usage=" + x.used()
                + "\nreserve=" + x.reserve() + "\n").orElse("");
    }

    @Handles(value = "admin.pool.volume.List", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.STORAGE)
    String poolVolumeList(Call c) {
        var p = pool(c);
        return lines(c.inv().qubes().values().stream().flatMap(q -> q.volumes().values().stream())
                .filter(v -> v.pool().equals(p.name()) && !v.vid().isEmpty()).map(VolumeDefinition::vid).sorted());
    }

    /** {@code admin.pool.Add+DRIVER}: payload {@code name=NAME} and the driver's {@code KEY=VALUE}, a line each. */
    @Handles(value = "admin.pool.Add", arg = Arg.REQUIRED, payload = Payload.REQUIRED, dest = Dest.ADMIN,
            topic = Topic.STORAGE)
    void poolAdd(Call c) {
        if (!PoolOps.poolDriverParameters().containsKey(c.arg())) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in 'available drivers'");
        }
        var config = new TreeMap<String, String>();
        for (String line : c.payloadAscii().split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be separated by equal sign");
            }
            if (config.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
                throw new CompartException(ErrorKind.PROTOCOL, "Options must be unique");
            }
        }
        String name = config.remove("name");
        if (name == null) {
            throw new CompartException(ErrorKind.PROTOCOL, "Pool configuration must contain key: name");
        }
        pools.addPool(name, c.arg(), config);
    }

    @Handles(value = "admin.pool.Set.revisions_to_keep", arg = Arg.REQUIRED, payload = Payload.REQUIRED,
            dest = Dest.ADMIN, topic = Topic.STORAGE)
    void poolSetRevisionsToKeep(Call c) {
        var p = pool(c);
        pools.setPoolRevisionsToKeep(p, validateNumber(c.untrustedPayload(), "revisions to keep", true));
    }

    /** Compart's: {@code on} keeps a {@code file-reflink} pool deduplicated by the daemon, {@code off} stops it. */
    @Handles(value = "admin.pool.Set.dedup", arg = Arg.REQUIRED, payload = Payload.REQUIRED, dest = Dest.ADMIN,
            topic = Topic.STORAGE)
    void poolSetDedup(Call c) {
        pools.setPoolDedup(pool(c), c.payloadAscii());
    }

    @Handles(value = "admin.pool.Remove", arg = Arg.REQUIRED, dest = Dest.ADMIN, topic = Topic.STORAGE)
    void poolRemove(Call c) {
        pools.removePool(pool(c).name());
    }

    private static PoolDefinition pool(Call c) {
        var p = c.inv().pools().get(c.arg());
        if (p == null) {
            throw new CompartException(ErrorKind.PERMISSION_DENIED, "Argument not in 'pools'");
        }
        return p;
    }
}
