"""Qubes' qrexec service admin.vm.volume.Import / ImportWithSize for a test: relays stdin to compartd's socket.

Test material for QubesBackupInteropTest. qubesadmin's dom0 client runs QREXEC_SERVICES_DIR/METHOD ARG with the
data on stdin and QREXEC_REQUESTED_TARGET naming the qube, and reads qubesd's reply on stdout; this harness of ours
stands in for that directory's entries, sending the call to the socket in COMPART_TEST_SOCKET.
"""
import os
import shutil
import socket
import sys


def main():
    method = os.path.basename(sys.argv[0])
    arg = sys.argv[1] if len(sys.argv) > 1 else ""
    target = os.environ["QREXEC_REQUESTED_TARGET"]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["COMPART_TEST_SOCKET"])
    s.sendall("{}+{} dom0 name {}\0".format(method, arg, target).encode("ascii"))
    with s.makefile("wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out)
    s.shutdown(socket.SHUT_WR)
    with s.makefile("rb") as reply:
        sys.stdout.buffer.write(reply.read())


if __name__ == "__main__":
    main()
