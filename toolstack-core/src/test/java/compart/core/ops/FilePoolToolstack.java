package compart.core.ops;

import compart.core.hypervisor.Hypervisor;
import compart.core.model.Inventory;
import compart.core.model.PoolDefinition;
import compart.core.model.QubeClass;
import compart.core.qubesdb.QubesDbDaemons;
import compart.core.storage.Storage;
import compart.core.store.StateStore;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Test set-up shared by the toolstack's tests: a {@link Toolstack} on a given hypervisor, its state in
 * {@code DIR/state} and a file-reflink pool {@code varlibqubes} in {@code DIR/pool}, holding the TemplateVM
 * {@code fedora}.
 */
public final class FilePoolToolstack {
    private FilePoolToolstack() {
    }

    /** @return the toolstack, with the TemplateVM fedora created (volumes included) */
    public static Toolstack withFedora(Path dir, Hypervisor hv, RandomGenerator random) {
        var inv = Inventory.initial(List.of(new PoolDefinition("varlibqubes", "file-reflink", Map.of("dir_path",
                dir.resolve("pool").toString(), "setup_check", "no"))), 0);
        var store = new StateStore(dir.resolve("state"));
        var qubesdb = new QubesDbDaemons(null, () -> Optional.of("UTC"), InstantSource.system(), random);
        var ts = new Toolstack(store, hv, new Storage(), store.load(inv).inventory(), Set.of(), null, qubesdb);
        ts.create("fedora", i -> i.withNewQube(QubeClass.TemplateVM, "fedora", "black", Optional.empty(), random));
        return ts;
    }

    /** @return the toolstack with fedora, sys-net (net qube) and work (netvm sys-net), volumes included */
    public static Toolstack withNetwork(Path dir, Hypervisor hv, RandomGenerator random) {
        var ts = withFedora(dir, hv, random);
        ts.create("sys-net", i -> i.withNewQube(QubeClass.AppVM, "sys-net", "red", Optional.of("fedora"), random)
                .withProperty("sys-net", "provides_network", "True"));
        ts.create("work", i -> i.withNewQube(QubeClass.AppVM, "work", "blue", Optional.of("fedora"), random)
                .withProperty("work", "netvm", "sys-net"));
        return ts;
    }

    /** Adds {@code dvm}, an AppVM of fedora that is a disposable template. */
    public static void addDisposableTemplate(Toolstack ts, RandomGenerator random) {
        ts.create("dvm", i -> i.withNewQube(QubeClass.AppVM, "dvm", "red", Optional.of("fedora"), random)
                .withProperty("dvm", "template_for_dispvms", "True"));
    }
}
