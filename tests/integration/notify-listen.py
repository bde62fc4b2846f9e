#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# notify-listen.py SOCKET OUT — stand in for systemd's notify socket: bind an AF_UNIX
# datagram socket at SOCKET and append each datagram's lines ("READY=1", "STATUS=…",
# "WATCHDOG=1", …) to OUT, one line each, flushed at once so a test can poll the file.
# Runs until killed. Used by tests/integration/130-droverd.sh.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", encoding="utf-8", errors="replace") as f:
    f.write("LISTENING=1\n")
    f.flush()
    while True:
        data = s.recv(65536)
        for line in data.decode("utf-8", "replace").splitlines():
            f.write(line + "\n")
        f.flush()
