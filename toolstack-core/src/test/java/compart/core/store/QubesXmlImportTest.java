package compart.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import compart.core.model.QubeClass;
import compart.errors.CompartException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QubesXmlImportTest {
    @TempDir
    Path dir;

    static final String XML = """
            <?xml version='1.0' encoding='UTF-8'?>
            <qubes>
              <labels>
                <label color="0xcc0000" id="label-1">red</label>
                <label color="0x73d216" id="label-4">green</label>
                <label color="0x3465a4" id="label-6">blue</label>
                <label color="0x000000" id="label-8">black</label>
              </labels>
              <pools>
                <pool dir_path="/var/lib/qubes" driver="file" name="varlibqubes" revisions_to_keep="1"/>
                <pool driver="linux-kernel" name="linux-kernel" dir_path="/var/lib/qubes/vm-kernels"/>
              </pools>
              <properties>
                <property name="default_netvm">sys-net</property>
                <property name="default_template">fedora-40</property>
                <property name="clockvm">sys-net</property>
                <property name="default_kernel">6.6.48-1.fc37</property>
                <property name="stats_interval">3</property>
                <property name="unknown_future_thing">x</property>
              </properties>
              <domains>
                <domain class="AdminVM" id="domain-0">
                  <properties><property name="label">black</property></properties>
                  <features><feature name="gui-default-secure-copy-sequence">Ctrl-c</feature></features>
                  <tags/>
                </domain>
                <domain class="TemplateVM" id="domain-1">
                  <properties>
                    <property name="qid">1</property>
                    <property name="name">fedora-40</property>
                    <property name="uuid">11111111-2222-4333-8444-555555555555</property>
                    <property name="label">black</property>
                    <property name="memory">600</property>
                  </properties>
                  <features><feature name="os">Linux</feature></features>
                  <volume-config>
                    <volume name="root" pool="varlibqubes" vid="vm-templates/fedora-40/root" revisions_to_keep="1"
                            rw="True" save_on_stop="True" size="21474836480" snap_on_start="False"/>
                  </volume-config>
                </domain>
                <domain class="AppVM" id="domain-2">
                  <properties>
                    <property name="qid">2</property>
                    <property name="name">sys-net</property>
                    <property name="label" ref="label-1"/>
                    <property name="template">fedora-40</property>
                    <property name="provides_network">True</property>
                    <property name="netvm"></property>
                    <property name="virt_mode">hvm</property>
                  </properties>
                  <tags><tag name="created-by-dom0"/></tags>
                </domain>
                <domain class="AppVM" id="domain-3">
                  <properties>
                    <property name="qid">3</property>
                    <property name="name">work</property>
                    <property name="label">blue</property>
                    <property name="template" ref="domain-1"/>
                    <property name="dispvm_allowed">True</property>
                  </properties>
                </domain>
                <domain class="RemoteVM" id="domain-4">
                  <properties><property name="qid">4</property><property name="name">remote</property></properties>
                </domain>
              </domains>
            </qubes>
            """;

    @Test
    void import_readsLabelsPoolsGlobalsAndDomains() throws Exception {
        Files.writeString(dir.resolve("qubes.xml"), XML);
        var result = QubesXmlImport.read(dir.resolve("qubes.xml"), 0);
        var inv = result.inventory();
        assertThat(inv.violations()).isEmpty();
        assertThat(inv.qubes()).containsOnlyKeys("dom0", "fedora-40", "sys-net", "work");
        var work = inv.qube("work");
        assertThat(work.klass()).isEqualTo(QubeClass.AppVM);
        assertThat(inv.value(work, "template")).contains("fedora-40");
        assertThat(inv.value(work, "memory")).contains("600");
        assertThat(inv.value(work, "netvm")).contains("sys-net");
        assertThat(inv.value(work, "template_for_dispvms")).contains("True");
        assertThat(inv.value(work, "ip")).contains("10.137.0.3");
        var net = inv.qube("sys-net");
        assertThat(inv.value(net, "label")).contains("red");
        assertThat(inv.value(net, "netvm")).isEmpty();
        assertThat(net.tags()).contains("created-by-dom0");
        assertThat(inv.qube("fedora-40").uuid().toString()).isEqualTo("11111111-2222-4333-8444-555555555555");
        assertThat(inv.qube("fedora-40").volumes().get("root").size()).isEqualTo(21474836480L);
        assertThat(inv.globalValue("clockvm")).contains("sys-net");
        assertThat(inv.pools()).containsKeys("varlibqubes", "linux-kernel");
        assertThat(result.notes()).anyMatch(n -> n.contains("unknown_future_thing"))
                .anyMatch(n -> n.contains("RemoteVM"));
    }

    @Test
    void import_refusesDoctypes_andNonQubesFiles() throws Exception {
        Files.writeString(dir.resolve("x.xml"), "<?xml version='1.0'?><!DOCTYPE qubes [<!ENTITY e SYSTEM "
                + "'file:///etc/passwd'>]><qubes>&e;</qubes>");
        assertThatThrownBy(() -> QubesXmlImport.read(dir.resolve("x.xml"), 0)).isInstanceOf(CompartException.class);
        Files.writeString(dir.resolve("y.xml"), "<html/>");
        assertThatThrownBy(() -> QubesXmlImport.read(dir.resolve("y.xml"), 0)).hasMessageContaining("qubes.xml");
    }
}
