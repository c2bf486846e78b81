# Install, use, change, reinstall and erase the RPM (run by throwaway-root.sh with Debian's rpm and its own
# database; Xen's libraries are Debian's here, so dependencies are not checked).
. ./checks.sh
rpm=$(ls compart-*.x86_64.rpm)

step "install $rpm"
expect "rpm -i" rpm -i --nodeps "$rpm"
installed_commands_work

step "the administrator's changes, then a reinstall"
user_changes
expect "rpm -U --replacepkgs" rpm -U --nodeps --replacepkgs "$rpm"
expect "the changed compart.conf is kept" grep -q 'Xmx300m' /etc/compart/compart.conf
user_data_kept

step "erase"
expect "rpm -e" rpm -e --nodeps compart
expect_not "the commands are gone" test -e /usr/bin/qvm-ls
expect_not "the runtime is gone" test -e /usr/lib/compart
expect "the changed compart.conf is saved as .rpmsave" grep -q 'Xmx300m' /etc/compart/compart.conf.rpmsave
user_data_kept
step "done"
