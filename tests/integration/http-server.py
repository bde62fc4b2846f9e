#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real HTTP server for drover's integration tests (threaded, HTTP/1.1).

GET  /health             200 {"status": "ok", "site": "..."}
GET  /status/NNN         responds with status NNN
GET  /slow?ms=N          answers after N ms
GET  /json               200 {"data": {"state": "ready", "lag": 3}, "items": [{"id": 7}]}
ANY  /record/NAME        stores method, headers and body as NAME.N.json in --state-dir; 200 {"ok": true}
GET  /count/NAME         200 with the number of /record/NAME requests so far
GET  /flaky/NAME?fail=K  fails (503) the first K calls for NAME, then 200
GET  /redirect?n=N       redirects N times, then 200
"""
import argparse, json, os, threading, time
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
from urllib.parse import urlparse, parse_qs

lock = threading.Lock()
counters = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(obj if obj is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        parts = [p for p in u.path.split("/") if p]
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if u.path == "/health":
            return self.reply(200, {"status": "ok", "site": self.server.site})
        if len(parts) == 2 and parts[0] == "status":
            return self.reply(int(parts[1]), {"status": int(parts[1])})
        if u.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            return self.reply(200, {"slow": True})
        if u.path == "/json":
            return self.reply(200, {"data": {"state": "ready", "lag": 3}, "items": [{"id": 7}]})
        if len(parts) == 2 and parts[0] == "record":
            with lock:
                k = counters.get(parts[1], 0) + 1
                counters[parts[1]] = k
            rec = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                   "body": body.decode("utf-8", "replace")}
            with open(os.path.join(self.server.state_dir, "%s.%d.json" % (parts[1], k)), "w") as f:
                json.dump(rec, f)
            return self.reply(200, {"ok": True, "n": k})
        if len(parts) == 2 and parts[0] == "count":
            with lock:
                return self.reply(200, {"count": counters.get(parts[1], 0)})
        if len(parts) == 2 and parts[0] == "flaky":
            with lock:
                k = counters.get("flaky-" + parts[1], 0) + 1
                counters["flaky-" + parts[1]] = k
            if k <= int(q.get("fail", ["1"])[0]):
                return self.reply(503, {"attempt": k})
            return self.reply(200, {"attempt": k})
        if u.path == "/redirect":
            left = int(q.get("n", ["1"])[0])
            if left > 0:
                return self.reply(302, {}, headers={"Location": "/redirect?n=%d" % (left - 1)})
            return self.reply(200, {"redirected": True})
        return self.reply(404, {"error": "no such path"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--site", default="test")
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.address, a.port), Handler)
    srv.daemon_threads = True
    srv.state_dir = a.state_dir
    srv.site = a.site
    srv.serve_forever()


if __name__ == "__main__":
    main()
