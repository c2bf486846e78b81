package compart.xl.xenctrl;

import compart.xl.foreign.XenHost;
import compart.xl.libxl.LibxlContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** libxenctrl on a real Xen 4.17 dom0: raw physinfo and domain info list, cross-checked with libxl. */
@Tag("xen")
class XenCtrlXenTest {
    @Test
    void physInfoAndDomainList_agreeWithLibxl() {
        XenHost.assumeDom0();
        try (XenCtrl xc = XenCtrl.open(); LibxlContext ctx = LibxlContext.open()) {
            XcPhysInfo raw = xc.physInfo();
            System.out.println("XC-PHYSINFO " + raw);
            assertThat(raw.nrCpus()).isEqualTo(ctx.physInfo().nrCpus());
            assertThat(raw.totalPages()).isEqualTo(ctx.physInfo().totalPages());
            assertThat(raw.pv()).isTrue();

            List<XcDomainInfo> domains = xc.domains();
            assertThat(domains).isNotEmpty();
            XcDomainInfo dom0 = domains.getFirst();
            assertThat(dom0.domid()).isZero();
            assertThat(dom0.onlineVcpus()).isPositive();
            assertThat(domains.stream().map(XcDomainInfo::domid).toList())
                    .containsExactlyElementsOf(ctx.listDomains().stream().map(d -> d.domid()).toList());
        }
    }
}
