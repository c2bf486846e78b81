"""Drives Qubes' own backup code (unmodified) offline, as the oracle for Compart's backup format.

Test material for QubesBackupInteropTest. Two commands:

  write BASEDIR TARGET PASSFILE PRIVATE_IMAGE
      With qubes-core-admin on PYTHONPATH: builds a Qubes app in offline mode under BASEDIR (every path there,
      with qubesd_offline.py's configure(), next to this file), creates a StandaloneVM 'work' with a property, a feature and a tag, copies
      PRIVATE_IMAGE into its private volume (keeping its holes), and runs Qubes' Backup (qubes/backup.py) to the
      file TARGET with the passphrase in PASSFILE. Qubes calls the 'scrypt' tool for every envelope.

  restore SOCKET BACKUP PASSFILE [qvm-backup-restore options]
      With qubes-core-admin-client on PYTHONPATH: runs Qubes' qvm-backup-restore (its main(), unmodified) against
      the Admin API on SOCKET, on BACKUP, with --passphrase-file PASSFILE; exits with its exit code. The
      environment's QREXEC_SERVICES_DIR, if set, is where it finds admin.vm.volume.Import (volume_import_service.py).

Only configuration values of Qubes' modules are set (paths, the socket); no code of theirs is changed.
"""
import asyncio
import os
import shutil
import sys


def write(base, target, passfile, image):
    base = os.path.abspath(base)
    import qubes.config
    from qubesd_offline import configure, fresh_app

    configure(base)
    # Backup finds the files it saves below qubes_base_dir
    qubes.config.system_path["qubes_base_dir"] = base

    import qubes
    import qubes.backup

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = fresh_app(base, loop)
    vm = app.add_new_vm("StandaloneVM", name="work", label="red")
    vm.memory = 600
    vm.features["service.crond"] = "1"
    vm.tags.add("from-qubes-backup-py")
    loop.run_until_complete(vm.create_on_disk())
    private = vm.volumes["private"].path
    os.remove(private)
    # cp --sparse=always keeps the holes, so Qubes' tar writes a sparse entry
    import subprocess
    subprocess.check_call(["cp", "--sparse=always", image, private])
    # the root image Qubes creates is a 10 GiB sparse file: 1 MiB keeps the test's reading short
    os.truncate(vm.volumes["root"].path, 1 << 20)
    app.save()
    with open(passfile, encoding="utf-8") as f:
        passphrase = f.readline().rstrip("\n")
    backup = qubes.backup.Backup(app, [vm], passphrase=passphrase, target_dir=target, compressed=True)
    loop.run_until_complete(backup.backup_do())
    print("written", flush=True)


def restore(sock, backup, passfile, options):
    import qubesadmin.config

    qubesadmin.config.QUBESD_SOCKET = sock
    if os.environ.get("QREXEC_SERVICES_DIR"):
        qubesadmin.config.QREXEC_SERVICES_DIR = os.environ["QREXEC_SERVICES_DIR"]
    import qubesadmin.app
    import qubesadmin.tools.qvm_backup_restore as tool

    # the dom0 client (QubesLocal, what qubesadmin picks where /etc/qubes-release exists), on SOCKET
    return tool.main(options + ["--passphrase-file", passfile, backup], app=qubesadmin.app.QubesLocal())


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(*sys.argv[2:6])
    elif sys.argv[1] == "restore":
        sys.exit(restore(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]) or 0)
    else:
        sys.exit("usage: write BASEDIR TARGET PASSFILE IMAGE | restore SOCKET BACKUP PASSFILE [options]")
