package compart.xenhost.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import compart.xl.libxl.DomainConfig;
import compart.xl.libxl.DomainEvent;
import compart.xl.libxl.DomainInfo;
import compart.xl.libxl.DomainType;
import compart.xl.libxl.LibxlContext;
import compart.xl.libxl.PhysInfo;
import compart.xl.libxl.ShutdownReason;
import compart.xl.libxl.VersionInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * xl-bindings' {@link LibxlContext} against the real libxl of a real Xen 4.17: host queries, and a PVH domain's
 * whole life (create paused, unpause, the guest powers itself off, shutdown and death events).
 */
class LibxlContextIT {
    private static LibxlContext libxl;

    @BeforeAll
    static void open() {
        libxl = LibxlContext.open();
    }

    @AfterAll
    static void close() {
        if (libxl != null) {
            libxl.close();
        }
    }

    private static DomainConfig harnessPvhGuest(String name) {
        return DomainConfig.of(name, UUID.randomUUID(), 256 * 1024, 1, new DomainConfig.Boot.Pvh(
                Dom0Host.guestKernel(), Optional.of(Dom0Host.guestInitrd()), "console=hvc0 quiet"));
    }

    @Test
    void open_installsTheSigchldHandler_andNoDisasterHappened() {
        assertThat(libxl.sigchldHandlerInstalled()).isTrue();
        assertThat(libxl.disaster()).isEmpty();
    }

    @Test
    void version_isXen417() {
        VersionInfo version = libxl.version();

        assertThat(version.major()).isEqualTo(4);
        assertThat(version.minor()).isEqualTo(17);
        assertThat(version.version()).startsWith("4.17.");
        assertThat(version.capabilities()).contains("hvm-3.0-x86_64");
    }

    @Test
    void physInfo_hasOneCpu_hvmAndHap() {
        PhysInfo info = libxl.physInfo();

        assertThat(info.nrCpus()).isEqualTo(1);
        assertThat(info.capabilities()).contains(PhysInfo.Capability.HVM, PhysInfo.Capability.PV,
                PhysInfo.Capability.HAP);
    }

    @Test
    void listDomains_containsDomain0_runningAndNeverStopping() {
        List<DomainInfo> domains = libxl.listDomains();

        assertThat(domains).anySatisfy(domain -> {
            assertThat(domain.domid()).isZero();
            assertThat(domain.name()).isEqualTo("Domain-0");
            assertThat(domain.type()).isEqualTo(DomainType.PV);
        });
        assertThat(libxl.domainId("Domain-0")).hasValue(0);
    }

    @Test
    void pvhDomain_createdPaused_runsWhenUnpaused_powersOff_andDies() throws Exception {
        String name = "it-libxl-pvh";
        Path console = Path.of("/var/log/xen/console/guest-" + name + ".log");
        Files.deleteIfExists(console);
        BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();

        int domid = libxl.createPaused(harnessPvhGuest(name));
        try (var _ = libxl.watch(domid, events::add)) {
            assertThat(libxl.domainInfo(domid)).hasValueSatisfying(info -> {
                assertThat(info.paused()).isTrue();
                // libxl_dominfo derives the type from XEN_DOMINF_hvm_guest, so a PVH domain (an HVM container)
                // reads as HVM there (libxl__xcinfo2xlinfo); only the domain's saved config says "pvh".
                assertThat(info.type()).isIn(DomainType.PVH, DomainType.HVM);
                assertThat(info.name()).isEqualTo(name);
            });
            assertThat(libxl.domainId(name)).hasValue(domid);

            libxl.unpause(domid);

            DomainEvent first = events.poll(TestGuest.PVH_BOOT.toSeconds(), TimeUnit.SECONDS);
            assertThat(first).as("shutdown event of domain %d; console:%n%s", domid, Dom0Host.read(console))
                    .isInstanceOfSatisfying(DomainEvent.Shutdown.class, shutdown -> {
                        assertThat(shutdown.domid()).isEqualTo(domid);
                        assertThat(shutdown.reason()).isEqualTo(ShutdownReason.POWEROFF);
                    });
            assertThat(Dom0Host.read(console)).contains("COMPART-GUEST: up type=PVH", "COMPART-GUEST: poweroff");

            // libxl's event is the guest's power-off; on_poweroff="destroy" is the toolstack's job (xl does it).
            libxl.destroy(domid);
            DomainEvent death = events.poll(2, TimeUnit.MINUTES);
            assertThat(death).isInstanceOf(DomainEvent.Death.class);
            assertThat(libxl.domainInfo(domid)).isEmpty();
        } finally {
            if (libxl.domainInfo(domid).isPresent()) {
                libxl.destroy(domid);
            }
            Files.createDirectories(Dom0Host.out().resolve("guests"));
            Files.writeString(Dom0Host.out().resolve("guests").resolve(name + ".log"), Dom0Host.read(console));
        }
    }

    @Test
    void destroyingAPausedDomain_reportsItsDeath_andFreesItsName() throws Exception {
        BlockingQueue<DomainEvent> events = new LinkedBlockingQueue<>();
        int domid = libxl.createPaused(harnessPvhGuest("it-libxl-destroy"));
        try (var _ = libxl.watch(domid, events::add)) {
            libxl.destroy(domid);

            assertThat(events.poll(2, TimeUnit.MINUTES)).isInstanceOf(DomainEvent.Death.class)
                    .extracting(DomainEvent::domid).isEqualTo(domid);
            assertThat(libxl.domainId("it-libxl-destroy")).isEmpty();
            assertThat(libxl.listDomains()).noneMatch(d -> d.domid() == domid);
        } finally {
            if (libxl.domainInfo(domid).isPresent()) {
                libxl.destroy(domid);
            }
        }
    }
}
