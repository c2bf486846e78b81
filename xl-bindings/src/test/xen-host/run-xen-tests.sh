#!/bin/sh
# Runs xl-bindings' @Tag("xen") tests inside the dom0 of the QEMU Xen host (integration-tests), as root.
# Verified in the QEMU Xen host of integration-tests: 20 tests, 0 failures, ~6 min including 3+3 timing rounds.
#
# Layout expected under $SHARE (default: the directory of this script):
#   classes/        xl-bindings target/classes
#   test-classes/   xl-bindings target/test-classes (or the test-jar)
#   jars/           compart-errors, slf4j-api, logback-classic+core, jackson-databind/core/annotations,
#                   junit-jupiter(-api,-engine,-params), junit-platform-(commons,engine,launcher,console,reporting),
#                   opentest4j, apiguardian-api, assertj-core
# dom0 JRE modules used: java.base,jdk.unsupported,java.logging,java.management,java.xml,java.naming,
#                        java.instrument,java.compiler
# Results: $SHARE/results (JUnit XML, /var/log/xen logs, guest consoles, xl dmesg). Exit code = JUnit's.
set -u
SHARE=${SHARE:-$(cd "$(dirname "$0")" && pwd)}
cd "$SHARE"
mkdir -p /var/lib/xenci results
truncate -s 64M /var/lib/xenci/disk.img
truncate -s 16M /var/lib/xenci/compart-hotplug.img
CP="classes:test-classes:$(ls jars/*.jar | tr '\n' ':')"
java --enable-native-access=ALL-UNNAMED -cp "$CP" \
  -Dcompart.test.kernel=${GUEST_KERNEL:-/boot/vmlinuz} \
  -Dcompart.test.initrd=${GUEST_INITRD:-/var/lib/xenci/guest-initrd.gz} \
  -Dcompart.test.disk=/var/lib/xenci/disk.img \
  -Dcompart.test.hotplugDisk=/var/lib/xenci/compart-hotplug.img \
  -Dcompart.test.hvm.waitMarker=${HVM_WAIT_MARKER:-false} \
  -Dcompart.test.timingRounds=${TIMING_ROUNDS:-3} \
  org.junit.platform.console.ConsoleLauncher execute --disable-banner --details=tree \
  --reports-dir="$SHARE/results" \
  --select-class=compart.xl.libxl.LibxlContextXenTest \
  --select-class=compart.xl.xenctrl.XenCtrlXenTest \
  --select-class=compart.xl.xenstore.XenStoreXenTest \
  --select-class=compart.xl.libxl.PvhGuestXenTest \
  --select-class=compart.xl.vchan.VchanXenTest \
  --select-class=compart.xl.libxl.HvmGuestXenTest \
  --select-class=compart.xl.libxl.CreateTimingXenTest
rc=$?
cp /var/log/xen/*.log results/ 2>/dev/null
cp -r /var/log/xen/console results/ 2>/dev/null
xl dmesg > results/xl-dmesg.txt 2>&1
exit $rc
