"""Serves Qubes' own Admin API code (qubes-core-admin, unmodified) in offline mode on one Unix socket.

Test material for QubesdFidelityTest: Qubes' daemon is the specification, compartd the implementation under
test. Usage: qubesd_offline.py SOCKET BASEDIR; prints "serving" on stdout when the socket accepts calls.
PYTHONPATH must hold the unpacked qubes-core-admin tree (with its egg-info, so that its extensions load) and
qubes-core-qrexec's Python package.

What this harness sets, and why (nothing in Qubes' code is changed; only its configuration module's values):
- every path under BASEDIR instead of /var/lib/qubes, so that nothing outside the test's folder is touched;
- one installed kernel, BASEDIR/vm-kernels/6.6.1 (the kernel compartd's test hypervisor reports), so that
  Qubes' kernel checks have something to accept;
- no 'qubes' group to hand the socket to (the test runs as one user).
The app starts like a fresh install (qubes-create): dom0 and the default pools, nothing else.
"""
import asyncio
import functools
import os
import sys


def configure(base):
    """Points every path of Qubes' configuration under BASE and installs the one kernel there."""
    os.makedirs(base, exist_ok=True)
    import qubes.config

    qubes.config.qubes_base_dir = base
    qubes.config.system_path["dom0_services_dir"] = os.path.join(base, "qubes-service")
    qubes.config.defaults["pool_configs"]["varlibqubes"]["dir_path"] = base
    kernels = os.path.join(base, qubes.config.system_path["qubes_kernels_base_dir"])
    qubes.config.defaults["pool_configs"]["linux-kernel"]["dir_path"] = kernels
    os.makedirs(os.path.join(kernels, "6.6.1"), exist_ok=True)
    for f in ("vmlinuz", "initramfs", "modules.img"):
        open(os.path.join(kernels, "6.6.1", f), "ab").close()


def fresh_app(base, loop):
    """A new offline app in BASE (not saved yet): dom0, the default pools, the one kernel as default."""
    import qubes

    app = qubes.Qubes(os.path.join(base, "qubes.xml"), load=False, offline_mode=True)
    app.load_initial_values()
    loop.run_until_complete(app.setup_pools())
    app.default_kernel = "6.6.1"
    return app


def main():
    sock, base = sys.argv[1], os.path.abspath(sys.argv[2])
    configure(base)
    import qubes
    import qubes.api
    import qubes.api.admin

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = fresh_app(base, loop)
    store = app.store
    app.save()
    app.close()
    app = qubes.Qubes(store, offline_mode=True)

    server = loop.run_until_complete(loop.create_unix_server(
        functools.partial(qubes.api.QubesDaemonProtocol, qubes.api.admin.QubesAdminAPI, app=app, debug=False),
        sock))
    print("serving", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


if __name__ == "__main__":
    main()
