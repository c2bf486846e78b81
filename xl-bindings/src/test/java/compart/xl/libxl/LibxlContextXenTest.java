package compart.xl.libxl;

import compart.xl.foreign.XenHost;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** libxl on a real Xen 4.17 dom0: the context, host information and the domain list. */
@Tag("xen")
class LibxlContextXenTest {
    private static LibxlContext ctx;

    @BeforeAll
    static void open() {
        XenHost.assumeDom0();
        ctx = LibxlContext.open();
    }

    @AfterAll
    static void close() {
        if (ctx != null) {
            ctx.close();
        }
    }

    @Test
    void open_onDom0_installsLibxlsSigchldHandlerAndReportsNoDisaster() {
        assertThat(ctx.sigchldHandlerInstalled()).isTrue();
        assertThat(ctx.disaster()).isEmpty();
    }

    @Test
    void version_isXen417() {
        VersionInfo version = ctx.version();
        System.out.println("XEN-VERSION " + version.version() + " caps=" + version.capabilities());
        assertThat(version.major()).isEqualTo(4);
        assertThat(version.minor()).isEqualTo(17);
        assertThat(version.pageSize()).isEqualTo(4096);
        assertThat(version.capabilities()).contains("xen-3.0-x86_64");
    }

    @Test
    void physInfo_reportsCpusMemoryAndPvCapability() {
        PhysInfo info = ctx.physInfo();
        System.out.println("PHYSINFO " + info);
        assertThat(info.nrCpus()).isPositive();
        assertThat(info.totalPages()).isPositive();
        assertThat(info.freePages()).isBetween(0L, info.totalPages());
        assertThat(info.capabilities()).contains(PhysInfo.Capability.PV);
    }

    @Test
    void listDomains_containsDomain0_runningAndNamed() {
        List<DomainInfo> domains = ctx.listDomains();
        System.out.println("DOMAINS " + domains);
        DomainInfo dom0 = domains.getFirst();
        assertThat(dom0.domid()).isZero();
        assertThat(dom0.name()).isEqualTo("Domain-0");
        assertThat(dom0.dying()).isFalse();
        assertThat(dom0.currentKib()).isPositive();
        assertThat(dom0.vcpusOnline()).isPositive();
    }

    @Test
    void domainInfo_ofDomain0_matchesTheList_andOfAnUnusedDomid_isEmpty() {
        assertThat(ctx.domainInfo(0)).get().extracting(DomainInfo::name).isEqualTo("Domain-0");
        assertThat(ctx.domainInfo(31000)).isEmpty();
        assertThat(ctx.domainId("Domain-0")).hasValue(0);
        assertThat(ctx.domainId("no-such-domain-compart")).isEmpty();
    }

    @Test
    void needMemory_ofA256MibPvhGuest_isItsMemoryPlusLibxlsOverhead() {
        long need = ctx.needMemoryKib(LibxlJson.domainConfig(DomainConfigFixtures.pvhTestGuest("need-memory-probe",
                Path.of("/boot/vmlinuz"), Optional.empty(), 262144)));
        System.out.println("libxl_domain_need_memory of a 256 MiB PVH guest: " + need + " KiB");
        assertThat(need).isGreaterThan(262144).isLessThan(262144 + 64 * 1024);
    }

    @Test
    void pausingAnUnknownDomain_failsAsNotFoundNamingTheCall() {
        var e = org.assertj.core.api.Assertions.catchThrowableOfType(compart.errors.CompartException.class,
                () -> ctx.pause(31000));
        assertThat(e.getMessage()).startsWith("libxl_domain_pause failed for domain 31000: rc=");
    }
}
