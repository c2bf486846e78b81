package compart.volumes.lvm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LvmCommandTest {
    @Test
    void create_isAnActiveThinVolumeOfTheSizeInBytes_inThePool() {
        assertThat(LvmCommand.create("lvm", "vg", "pool", "appvms+work+private", 8388608).argv()).containsExactly(
                "lvm", "lvcreate", "--thin", "--setactivationskip=n", "--activate=y", "--name=appvms+work+private",
                "--virtualsize=8388608B", "--", "vg/pool");
    }

    @Test
    void snapshot_isAnActiveThinSnapshot_taggedWhenAsked() {
        assertThat(LvmCommand.snapshot("lvm", "vg", "a", "a-snap", null).argv()).containsExactly("lvm", "lvcreate",
                "--snapshot", "--setactivationskip=n", "--activate=y", "--name=a-snap", "--", "vg/a");
        assertThat(LvmCommand.snapshot("/sbin/lvm", "vg", "a-1-back", "a-import", LvmCommand.STAGED_TAG).argv())
                .containsExactly("/sbin/lvm", "lvcreate", "--snapshot", "--setactivationskip=n",
                        "--activate=y", "--name=a-import", "--addtag=compart_staged", "--", "vg/a-1-back");
    }

    @Test
    void theOtherCommands_endOptionsBeforeTheVolumeNames() {
        assertThat(LvmCommand.rename("lvm", "vg", "a-snap", "a").argv())
                .containsExactly("lvm", "lvrename", "--", "vg/a-snap", "vg/a");
        assertThat(LvmCommand.remove("lvm", "vg", "a").argv()).containsExactly("lvm", "lvremove", "--force", "--", "vg/a");
        assertThat(LvmCommand.extend("lvm", "vg", "a", 1 << 24).argv())
                .containsExactly("lvm", "lvextend", "--size=16777216B", "--", "vg/a");
        assertThat(LvmCommand.activate("lvm", "vg", "a").argv())
                .containsExactly("lvm", "lvchange", "--activate=y", "--", "vg/a");
        assertThat(LvmCommand.addTag("lvm", "vg", "a", "t").argv())
                .containsExactly("lvm", "lvchange", "--addtag=t", "--", "vg/a");
        assertThat(LvmCommand.list("lvm", "vg").argv()).containsExactly("lvm", "lvs", "--reportformat=json",
                "--units=b", "--nosuffix", "-o", LvsReport.FIELDS, "--", "vg");
    }
}
