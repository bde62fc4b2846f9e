#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""gateway-admin.py — the gateway's admin HTTP API on 10.213.0.10:8081, for drover
playbooks that switch the gateway over HTTP instead of SSH.

Owns: nothing but the HTTP wrapper. The switch itself is /srv/bin/gateway-active
(HAProxy runtime API + /srv/gateway/active), so SSH and HTTP act the same way.
Started by drills/lab/lab.sh inside the gateway namespace:

    gateway-admin.py --listen ADDR:PORT --helper /srv/bin/gateway-active

API (JSON):
  GET  /health   200 {"status":"ok"}
  GET  /active   200 {"site":"primary"} | 503 {"error":...} when HAProxy does not answer
  POST /active   {"site":"backup"} -> 200 {"site":"backup"}; 400 bad input; 500 switch failed;
                 409 when the X-Drover-Fencing-Token header is lower than the highest token
                 the gateway has seen (a deposed drover leader's late action). Without the
                 header (a single-node drover) the switch is accepted as before. The check
                 and the highest token live in gateway-active (DROVER_FENCING_TOKEN), so that
                 SSH and HTTP are fenced alike.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HELPER_DEADLINE_S = 10


class Handler(BaseHTTPRequestHandler):
    helper = "/srv/bin/gateway-active"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("gateway-admin: %s %s\n" % (self.address_string(), fmt % args))

    def reply(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def run_helper(self, *args, token=None):
        env = {k: v for k, v in os.environ.items() if k != "DROVER_FENCING_TOKEN"}
        if token is not None:
            env["DROVER_FENCING_TOKEN"] = token
        try:
            p = subprocess.run([self.helper, *args], capture_output=True, text=True,
                               timeout=HELPER_DEADLINE_S, env=env)
        except subprocess.TimeoutExpired:
            return 1, "gateway-active timed out"
        if p.returncode != 0:
            return p.returncode, (p.stderr.strip() or p.stdout.strip() or "gateway-active failed")
        return 0, p.stdout.strip()

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/active":
            rc, out = self.run_helper()
            if rc != 0:
                return self.reply(503, {"error": out})
            return self.reply(200, {"site": out})
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/active":
            return self.reply(404, {"error": "not found"})
        try:
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > 4096:
                raise ValueError("body too large")
            req = json.loads(self.rfile.read(n) or b"{}")
            site = req["site"]
        except (ValueError, KeyError, TypeError) as e:
            return self.reply(400, {"error": "expected {\"site\": \"primary\"|\"backup\"}: %s" % e})
        if site not in ("primary", "backup"):
            return self.reply(400, {"error": "unknown site %r" % (site,)})
        token = self.headers.get("X-Drover-Fencing-Token")
        if token is not None:
            token = token.strip()
            if not re.fullmatch(r"[0-9]{1,19}", token):
                return self.reply(400, {"error": "X-Drover-Fencing-Token must be a non-negative integer"})
        rc, out = self.run_helper(site, token=token)
        if rc == 3:
            return self.reply(409, {"error": out})
        if rc != 0:
            return self.reply(500, {"error": out})
        return self.reply(200, {"site": out})


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected ADDR:PORT")
    return host, int(port)


def main():
    p = argparse.ArgumentParser(description="lab gateway admin API")
    p.add_argument("--listen", type=parse_listen, required=True)
    p.add_argument("--helper", default="/srv/bin/gateway-active")
    a = p.parse_args()
    Handler.helper = a.helper
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(a.listen, Handler)
    signal.signal(signal.SIGTERM, lambda s, f: threading.Thread(target=srv.shutdown, daemon=True).start())
    sys.stderr.write("gateway-admin: listening on %s:%d\n" % a.listen)
    sys.stderr.flush()
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
