"""Runs Qubes' own qvm-firewall, unchanged, against the Admin API socket given as the first argument.

Qubes' client talks to its fixed socket only on a host with /etc/qubes-release; here the socket is the test
daemon's and the local connection is chosen explicitly. The remaining arguments are qvm-firewall's.
"""
import sys

socket_path = sys.argv.pop(1)
sys.argv[0] = 'qvm-firewall'

import qubesadmin
import qubesadmin.app
import qubesadmin.config

qubesadmin.config.QUBESD_SOCKET = socket_path
qubesadmin.Qubes = qubesadmin.app.QubesLocal

from qubesadmin.tools import qvm_firewall

sys.exit(qvm_firewall.main())
