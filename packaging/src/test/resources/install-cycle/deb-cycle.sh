# Install, use, change, upgrade, remove and purge the .deb (run by throwaway-root.sh; no systemd runs here).
. ./checks.sh
deb=$(ls compart_*_amd64.deb)

step "install $deb"
expect "dpkg -i" dpkg -i "$deb"
expect "compartd.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/compartd.service
expect "compart-policy.service is enabled" test -L /etc/systemd/system/multi-user.target.wants/compart-policy.service
installed_commands_work

step "the administrator's changes, then an upgrade that changes both configuration files"
user_changes
dpkg-deb -R "$deb" next
sed -i 's/^Version: .*/Version: 9.9.9/' next/DEBIAN/control
echo '# changed in 9.9.9' >>next/etc/compart/compart.conf
echo '# changed in 9.9.9' >>next/etc/qubes/policy.d/90-compart-default.policy
dpkg-deb -Znone -b next next.deb >/dev/null
systemctl disable compart-policy.service >/dev/null 2>&1  # what an administrator does
expect "dpkg -i (upgrade, keeping changed configuration)" dpkg --force-confdef --force-confold -i next.deb
expect "version 9.9.9 is installed" sh -c '[ "$(dpkg-query -W -f=\${Version} compart)" = 9.9.9 ]'
expect "the changed compart.conf is kept" grep -q 'Xmx300m' /etc/compart/compart.conf
expect "the new compart.conf is put beside it" grep -q 'changed in 9.9.9' /etc/compart/compart.conf.dpkg-dist
expect "the unchanged default policy is updated" grep -q 'changed in 9.9.9' /etc/qubes/policy.d/90-compart-default.policy
expect_not "a service the administrator disabled stays disabled" \
    test -e /etc/systemd/system/multi-user.target.wants/compart-policy.service
expect "compartd.service stays enabled" test -L /etc/systemd/system/multi-user.target.wants/compartd.service
user_data_kept

step "remove"
expect "dpkg -r" dpkg -r compart
expect_not "the commands are gone" test -e /usr/bin/qvm-ls
expect_not "the runtime is gone" test -e /usr/lib/compart
expect "compart.conf stays until purge" grep -q 'Xmx300m' /etc/compart/compart.conf
user_data_kept

step "purge"
expect "dpkg -P" dpkg -P compart
expect_not "purge removes compart.conf" test -e /etc/compart/compart.conf
expect_not "purge removes the package's default policy" test -e /etc/qubes/policy.d/90-compart-default.policy
expect "the group qubes stays" getent group qubes
user_data_kept
step "done"
