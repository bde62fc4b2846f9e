#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""notify-sink.py — the lab's "duty office": a webhook recorder in the root
namespace on 10.213.0.1:8099 (endpoint duty-office in the generated drover.yaml).

Owns: recording what drover notifies, so drills can check it. Every POST (any path)
is written to DIR/N.json (N = 1, 2, … in arrival order) as
    {"n": N, "t": epoch_s, "path": "/...", "content_type": "...", "body": <JSON or text>}
and answered 200 {"ok": true, "n": N}. Header values are not recorded (an
Authorization header is a secret). GET /count -> {"count": N}; GET /health -> 200.
Started by drills/lab/lab.sh:  notify-sink.py --listen ADDR:PORT --dir DIR
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    out_dir = "."
    lock = threading.Lock()
    count = 0

    def log_message(self, fmt, *args):
        sys.stderr.write("notify-sink: %s %s\n" % (self.address_string(), fmt % args))

    def reply(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/count":
            return self.reply(200, {"count": Handler.count})
        return self.reply(404, {"error": "not found"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            return self.reply(413, {"error": "body too large"})
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with Handler.lock:
            Handler.count += 1
            k = Handler.count
            rec = {"n": k, "t": round(time.time(), 3), "path": self.path,
                   "content_type": self.headers.get("Content-Type", ""), "body": body}
            tmp = os.path.join(Handler.out_dir, ".%d.json.tmp" % k)
            with open(tmp, "w") as f:
                json.dump(rec, f)
                f.write("\n")
            os.rename(tmp, os.path.join(Handler.out_dir, "%d.json" % k))
        return self.reply(200, {"ok": True, "n": k})


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected ADDR:PORT")
    return host, int(port)


def main():
    p = argparse.ArgumentParser(description="lab webhook recorder")
    p.add_argument("--listen", type=parse_listen, required=True)
    p.add_argument("--dir", required=True)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    Handler.out_dir = a.dir
    # Continue numbering after a restart instead of overwriting earlier records.
    Handler.count = max([int(f[:-5]) for f in os.listdir(a.dir)
                         if f.endswith(".json") and f[:-5].isdigit()] or [0])
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(a.listen, Handler)
    signal.signal(signal.SIGTERM, lambda s, f: threading.Thread(target=srv.shutdown, daemon=True).start())
    sys.stderr.write("notify-sink: listening on %s:%d, recording into %s\n" % (a.listen + (a.dir,)))
    sys.stderr.flush()
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
