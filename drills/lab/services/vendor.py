#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vendor.py — the lab's payment provider (vendor-a, vendor-b), a drill target only.

Owns: the /pay API the e-bank calls, the vendor's own metrics, and the fault knobs
drills turn (error rate, "breach" = slow or refused answers, key revocation).
Does not own: the network faults (lab.sh), or which vendor the bank uses (ebank.py).
Started by drills/lab/lab.sh inside the vendor-a / vendor-b namespaces and by
tests/lab/test-services.sh on loopback:

    vendor.py --listen ADDR:PORT --name NAME --srv DIR

DIR is the site's /srv. Files under DIR/vendor/ (created with defaults when absent):
  keys       accepted API keys, one per line (default: lab-key-1); read per request
  revoked    revoked keys, one per line; /admin/revoke appends here; read per request
  mode.json  {"error_rate", "breach", "slow_ms"}; written by /admin/mode so a restart keeps it

API (JSON in and out, HTTP/1.1 with Content-Length):
  GET  /health         200 {"status":"ok","vendor":NAME,...}        (subject to breach)
  POST /pay            {"id","amount"} + "Authorization: Bearer KEY"
                       401 {"ok":false,"error":"unauthorized"} for an unknown or revoked key,
                       else 200 {"ok":true,"ref":...} or 500 {"ok":false} at the error rate
  GET  /metrics        {"requests","errors","success_rate","window_s":60} over the last 60 s;
                       requests = authenticated payments answered or refused, errors = the
                       500s plus refused (breach refuse) ones; 401s are not the vendor's
                       failure and are counted apart ("unauthorized"); 1.0 when idle
  POST /admin/mode     {"error_rate":0.3} and/or {"breach":"none"|"slow"|"refuse","slow_ms":3000}
  POST /admin/revoke   {"key":K}
  GET  /admin/received {"received":N,"accepted":A,"unauthorized":U}: N counts every /pay
                       request that arrived (so "the transmission stopped" means N stopped
                       growing), A the ones paid (200)

The error rate is deterministic: a counter of authenticated payments since the last
/admin/mode; payment n (0-based) fails when floor((n+1)*r) > floor(n*r) with r in
thousandths, so 0.3 fails exactly 3 of every 10 (the 4th, 7th and 10th).
Breach applies to /pay and /health only; /metrics and /admin/* always answer, so an
operator can always clear it. "slow" sleeps slow_ms before answering; "refuse"
closes the connection without an answer.
"""

import argparse
import collections
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WINDOW_S = 60
MAX_BODY = 64 * 1024
DEFAULT_KEY = "lab-key-1"
BREACHES = ("none", "slow", "refuse")


def log(msg):
    sys.stderr.write("vendor: %s\n" % msg)
    sys.stderr.flush()


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def read_lines(path):
    try:
        with open(path) as f:
            return {l.strip() for l in f if l.strip() and not l.startswith("#")}
    except FileNotFoundError:
        return set()


class State:
    """Everything the handlers share, behind one lock."""

    def __init__(self, name, srv):
        self.name = name
        self.dir = os.path.join(srv, "vendor")
        os.makedirs(self.dir, exist_ok=True)
        self.keys_path = os.path.join(self.dir, "keys")
        self.revoked_path = os.path.join(self.dir, "revoked")
        self.mode_path = os.path.join(self.dir, "mode.json")
        if not os.path.exists(self.keys_path):
            write_atomic(self.keys_path, DEFAULT_KEY + "\n")
        self.lock = threading.Lock()
        self.error_milli = 0
        self.breach = "none"
        self.slow_ms = 3000
        self.counter = 0          # authenticated payments since the last mode change
        self.events = collections.deque()   # (monotonic t, is_error)
        self.received = 0
        self.accepted = 0
        self.unauthorized = 0
        self.load_mode()

    def load_mode(self):
        try:
            with open(self.mode_path) as f:
                m = json.load(f)
            self.apply_mode(m, persist=False)
        except FileNotFoundError:
            pass
        except (ValueError, OSError) as e:
            log("ignoring unreadable %s: %s" % (self.mode_path, e))

    def mode(self):
        return {"error_rate": self.error_milli / 1000.0, "breach": self.breach, "slow_ms": self.slow_ms}

    def apply_mode(self, m, persist=True):
        """Validates first, then applies all or nothing. Raises ValueError."""
        if not isinstance(m, dict):
            raise ValueError("expected a JSON object")
        unknown = set(m) - {"error_rate", "breach", "slow_ms"}
        if unknown:
            raise ValueError("unknown fields: %s" % ", ".join(sorted(unknown)))
        error_milli, breach, slow_ms = self.error_milli, self.breach, self.slow_ms
        if "error_rate" in m:
            r = m["error_rate"]
            if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 <= r <= 1:
                raise ValueError("error_rate must be a number in [0, 1]")
            error_milli = int(round(r * 1000))
        if "breach" in m:
            if m["breach"] not in BREACHES:
                raise ValueError("breach must be one of none, slow, refuse")
            breach = m["breach"]
        if "slow_ms" in m:
            s = m["slow_ms"]
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= 600000:
                raise ValueError("slow_ms must be an integer in [0, 600000]")
            slow_ms = s
        with self.lock:
            self.error_milli, self.breach, self.slow_ms = error_milli, breach, slow_ms
            self.counter = 0
            if persist:
                write_atomic(self.mode_path, json.dumps(self.mode()) + "\n")

    def next_fails(self):
        with self.lock:
            n = self.counter
            self.counter += 1
            return (n + 1) * self.error_milli // 1000 > n * self.error_milli // 1000

    def record(self, is_error):
        now = time.monotonic()
        with self.lock:
            self.events.append((now, is_error))
            self.prune(now)

    def prune(self, now):
        while self.events and self.events[0][0] < now - WINDOW_S:
            self.events.popleft()

    def metrics(self):
        now = time.monotonic()
        with self.lock:
            self.prune(now)
            n = len(self.events)
            e = sum(1 for _, err in self.events if err)
            return {"requests": n, "errors": e,
                    "success_rate": round((n - e) / n, 4) if n else 1.0,
                    "window_s": WINDOW_S, "vendor": self.name}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-vendor/1"
    state = None   # set in main()

    def log_message(self, fmt, *args):
        pass   # one line per request from log_request() instead; never the headers

    note = ""

    def log_request(self, code="-", size="-"):
        log("%s %s %s %s%s" % (self.client_address[0], self.command, self.path.split("?")[0], code,
                               " " + self.note if self.note else ""))

    def reply(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def refuse(self):
        """Close without an answer; RST rather than FIN so the caller fails at once."""
        self.close_connection = True
        log("%s %s %s refused" % (self.client_address[0], self.command, self.path))
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.close()
        except OSError:
            pass

    def breach_applies(self):
        """True when the request must not be answered (refuse); sleeps for slow."""
        st = self.state
        if st.breach == "refuse":
            self.refuse()
            return True
        if st.breach == "slow":
            time.sleep(st.slow_ms / 1000.0)
        return False

    def do_GET(self):
        st = self.state
        self.note = ""
        path = self.path.split("?")[0]
        if path == "/health":
            if self.breach_applies():
                return
            self.reply(200, {"status": "ok", "vendor": st.name, **st.mode()})
        elif path == "/metrics":
            self.reply(200, st.metrics())
        elif path == "/admin/received":
            with st.lock:
                self.reply(200, {"received": st.received, "accepted": st.accepted,
                                 "unauthorized": st.unauthorized, "vendor": st.name})
        elif path == "/admin/mode":
            self.reply(200, st.mode())
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        st = self.state
        self.note = ""
        path = self.path.split("?")[0]
        try:
            body = self.read_json()
        except ValueError as e:
            self.close_connection = True
            self.reply(400, {"error": "bad request: %s" % e})
            return
        if path == "/pay":
            self.pay(body)
        elif path == "/admin/mode":
            try:
                st.apply_mode(body)
            except ValueError as e:
                self.reply(400, {"error": str(e)})
                return
            self.note = "mode now %s" % json.dumps(st.mode())
            self.reply(200, st.mode())
        elif path == "/admin/revoke":
            key = body.get("key") if isinstance(body, dict) else None
            if not isinstance(key, str) or not key.strip() or "\n" in key:
                self.reply(400, {"error": "key must be a non-empty one-line string"})
                return
            with st.lock:
                with open(st.revoked_path, "a") as f:
                    f.write(key.strip() + "\n")
            self.note = "a key was revoked"   # never the key itself
            self.reply(200, {"revoked": True})
        else:
            self.reply(404, {"error": "not found"})

    def pay(self, body):
        st = self.state
        with st.lock:
            st.received += 1
        auth = self.headers.get("Authorization") or ""
        key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not key or key not in read_lines(st.keys_path) or key in read_lines(st.revoked_path):
            with st.lock:
                st.unauthorized += 1
            self.reply(401, {"ok": False, "error": "unauthorized"})
            return
        if not isinstance(body, dict) or not isinstance(body.get("id"), str) \
                or isinstance(body.get("amount"), bool) or not isinstance(body.get("amount"), (int, float)):
            self.reply(400, {"ok": False, "error": "need id (string) and amount (number)"})
            return
        if st.breach == "refuse":
            st.record(True)
            self.refuse()
            return
        if st.breach == "slow":
            time.sleep(st.slow_ms / 1000.0)
        if st.next_fails():
            st.record(True)
            self.reply(500, {"ok": False, "error": "payment failed"})
            return
        st.record(False)
        with st.lock:
            st.accepted += 1
        self.reply(200, {"ok": True, "ref": "%s-%s" % (st.name, uuid.uuid4().hex[:12])})


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected ADDR:PORT")
    return host.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser(description="lab payment provider")
    p.add_argument("--listen", type=parse_listen, required=True, help="ADDR:PORT")
    p.add_argument("--name", required=True)
    p.add_argument("--srv", required=True, help="the site's /srv")
    a = p.parse_args()

    Handler.state = State(a.name, a.srv)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(a.listen, Handler)

    def on_signal(signum, frame):
        # shutdown() waits for serve_forever() to return: call it from another thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log("%s listening on %s:%d, mode %s" % (a.name, a.listen[0], a.listen[1], json.dumps(Handler.state.mode())))
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
