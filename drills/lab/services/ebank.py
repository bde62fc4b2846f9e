#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ebank.py — the lab's e-bank application service, one per site (primary, backup).

Owns: the customer API behind the gateway (/transfer, /balance), its /health as
HAProxy and drover see it, and the choice of payment vendor (/admin/vendor).
Does not own: the database (PostgreSQL, set up by lab.sh), the gateway, the vendors.
Started by drills/lab/lab.sh inside the primary and backup namespaces and by
tests/lab/test-services.sh on loopback:

    ebank.py --listen ADDR:PORT --site NAME --dsn "host=... port=5432 dbname=ebank user=ebank connect_timeout=2"
             --srv DIR [--vendor-map vendor-a=http://...,vendor-b=http://...]

DIR is the site's /srv. DIR/ebank/vendor names the current vendor (default vendor-a)
and DIR/ebank/vendor-key holds the API key sent to it (default lab-key-1); both are
created when absent and read on every request, so `echo vendor-b > /srv/ebank/vendor`
over SSH takes effect at once.

API (JSON in and out, HTTP/1.1 with Content-Length):
  GET  /health        200 {"status":"ok","site","db":"primary","vendor"} when the DB accepts
                      writes (connected and `NOT pg_is_in_recovery()` within 1 s); else 503 with
                      "status":"standby" (db "standby") or "status":"db-down" (db "down")
  POST /transfer      {"id","account","amount"} -> 200 {"id","balance","vendor","site",...}
                      400 bad input; 502 the vendor failed (error, 401, timeout, refused);
                      503 the DB is not writable (standby, unreachable, timeout)
  GET  /balance?account=A1  -> {"account","balance","site"} (also on a standby)
  GET  /admin/vendor  -> {"vendor","url"};  POST /admin/vendor {"vendor":"vendor-b"}

/transfer, in this order, so money never leaves without a chance to record it:
  1. DB check (2 s): not in recovery (else 503 before paying anyone) and the id not yet
     recorded (a duplicate id answers 200 with the old row and pays nobody again);
  2. vendor POST /pay with a 2 s deadline; any non-200 or no answer -> 502;
  3. INSERT ... ON CONFLICT (id) DO NOTHING, autocommit, statement_timeout 2 s, client
     deadline 2.5 s; only when that statement returned is the answer 200. If the server
     reports it cancelled the wait for synchronous replication (commit local only, not on
     the standby), the answer is 503 "unreplicated": acknowledging it could lose it in a
     failover. A 503/timeout may still have committed; retrying the same id is safe.
Every DB call runs on a fresh asynchronous psycopg2 connection polled with a deadline,
so a dead primary (link down, no RST) can hold a request at most that deadline and no
pooled connection can stay stuck on it after a failover.
"""

import argparse
import http.client
import json
import os
import select
import signal
import sys
import threading
import time
import urllib.parse
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2
import psycopg2.extensions

MAX_BODY = 64 * 1024
VENDOR_DEADLINE_S = 2.0
DB_DEADLINE_S = 2.0
INSERT_DEADLINE_S = 2.5
HEALTH_DEADLINE_S = 1.0
DEFAULT_VENDORS = {"vendor-a": "http://10.213.0.21:8080", "vendor-b": "http://10.213.0.22:8080"}
DEFAULT_VENDOR = "vendor-a"
DEFAULT_KEY = "lab-key-1"


def log(msg):
    sys.stderr.write("ebank: %s\n" % msg)
    sys.stderr.flush()


def write_atomic(path, text):
    tmp = "%s.tmp.%d.%d" % (path, os.getpid(), threading.get_ident())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class DbDown(Exception):
    pass


class Db:
    """One asynchronous connection whose every step is bounded by a deadline."""

    def __init__(self, dsn, deadline, statement_timeout_ms):
        self.deadline = deadline
        self.conn = None
        try:
            self.conn = psycopg2.connect(dsn, async_=True,
                                         options="-c statement_timeout=%d" % statement_timeout_ms)
            self.wait()
        except psycopg2.Error as e:
            self.close()
            raise DbDown(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)

    def wait(self):
        while True:
            state = self.conn.poll()
            if state == psycopg2.extensions.POLL_OK:
                return
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise DbDown("deadline exceeded")
            fd = self.conn.fileno()
            if state == psycopg2.extensions.POLL_READ:
                select.select([fd], [], [], left)
            elif state == psycopg2.extensions.POLL_WRITE:
                select.select([], [fd], [], left)
            else:
                raise DbDown("bad poll state %r" % state)

    def query(self, sql, params=None, deadline=None):
        """Returns all rows. Raises DbDown on connection trouble or timeout, psycopg2.Error on SQL errors."""
        if deadline is not None:
            self.deadline = deadline
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            self.wait()
            return cur.fetchall() if cur.description else []
        except psycopg2.OperationalError as e:
            raise DbDown(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)
        finally:
            try:
                cur.close()
            except psycopg2.Error:
                pass

    def notices(self):
        return list(self.conn.notices) if self.conn else []

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def http_json(method, url, obj, headers, timeout):
    """One HTTP exchange bounded by timeout overall (each phase gets what is left).
    Returns (status, parsed JSON or None). Raises OSError / http.client errors."""
    deadline = time.monotonic() + timeout
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        body = json.dumps(obj).encode() if obj is not None else None
        h = {"Content-Type": "application/json", "Connection": "close"}
        h.update(headers)
        conn.request(method, u.path or "/", body=body, headers=h)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded")
        conn.sock.settimeout(left)
        resp = conn.getresponse()
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded")
        conn.sock.settimeout(left)
        raw = resp.read(MAX_BODY)
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return resp.status, data
    finally:
        conn.close()


def num(d):
    return float(d) if d is not None else None


class App:
    def __init__(self, site, dsn, srv, vendors):
        self.site = site
        self.dsn = dsn
        self.vendors = vendors
        self.dir = os.path.join(srv, "ebank")
        os.makedirs(self.dir, exist_ok=True)
        self.vendor_path = os.path.join(self.dir, "vendor")
        self.key_path = os.path.join(self.dir, "vendor-key")
        if not os.path.exists(self.vendor_path):
            write_atomic(self.vendor_path, DEFAULT_VENDOR + "\n")
        if not os.path.exists(self.key_path):
            write_atomic(self.key_path, DEFAULT_KEY + "\n")
            os.chmod(self.key_path, 0o600)

    def vendor(self):
        try:
            with open(self.vendor_path) as f:
                return f.read().strip() or DEFAULT_VENDOR
        except FileNotFoundError:
            return DEFAULT_VENDOR

    def key(self):
        with open(self.key_path) as f:
            return f.read().strip()

    def db(self, timeout, statement_timeout_ms=2000):
        return Db(self.dsn, time.monotonic() + timeout, statement_timeout_ms)

    def health(self):
        """(http status, body)."""
        body = {"site": self.site, "vendor": self.vendor()}
        try:
            with self.db(HEALTH_DEADLINE_S, 1000) as db:
                writable = db.query("SELECT NOT pg_is_in_recovery()")[0][0]
        except (DbDown, psycopg2.Error) as e:
            return 503, dict(body, status="db-down", db="down", error=str(e).strip()[:200])
        if writable:
            return 200, dict(body, status="ok", db="primary")
        return 503, dict(body, status="standby", db="standby")


def parse_transfer(body):
    """Returns (id, account, Decimal amount) or raises ValueError."""
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    tid, account, amount = body.get("id"), body.get("account"), body.get("amount")
    if not isinstance(tid, str) or not 0 < len(tid) <= 128:
        raise ValueError("id must be a string of 1..128 characters")
    if not isinstance(account, str) or not 0 < len(account) <= 64:
        raise ValueError("account must be a string of 1..64 characters")
    if isinstance(amount, bool) or not isinstance(amount, (int, float, str)):
        raise ValueError("amount must be a number")
    try:
        d = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError("amount must be a number")
    if not d.is_finite() or d <= 0 or d >= Decimal("1e10") or d != d.quantize(Decimal("0.01")):
        raise ValueError("amount must be positive, below 1e10, with at most 2 decimals")
    return tid, account, d


ROW_SQL = """SELECT t.id, t.account, t.amount, t.vendor, t.site,
                    (SELECT coalesce(sum(amount), 0) FROM transactions WHERE account = t.account)
             FROM transactions t WHERE t.id = %s"""


def row_reply(row, app, **extra):
    tid, account, amount, vendor, site, balance = row
    return dict({"id": tid, "account": account, "amount": num(amount), "balance": num(balance),
                 "vendor": vendor, "site": site, "served_by": app.site}, **extra)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-ebank/1"
    app = None   # set in main()
    note = ""

    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        ms = (time.monotonic() - self.t0) * 1000 if getattr(self, "t0", None) else 0
        log("%s %s %s %s %.0fms%s" % (self.client_address[0], self.command, self.path.split("?")[0], code, ms,
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

    def do_GET(self):
        self.t0, self.note = time.monotonic(), ""
        app = self.app
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/health":
            code, body = app.health()
            self.reply(code, body)
        elif u.path == "/admin/vendor":
            v = app.vendor()
            self.reply(200, {"vendor": v, "url": app.vendors.get(v)})
        elif u.path == "/balance":
            acct = urllib.parse.parse_qs(u.query).get("account", [""])[0]
            if not acct:
                self.reply(400, {"error": "account= is required"})
                return
            try:
                with app.db(DB_DEADLINE_S) as db:
                    bal = db.query("SELECT coalesce(sum(amount), 0), count(*) FROM transactions WHERE account = %s",
                                   (acct,))[0]
            except (DbDown, psycopg2.Error) as e:
                self.note = "db: %s" % str(e).strip()[:120]
                self.reply(503, {"error": "db-down", "site": app.site})
                return
            self.reply(200, {"account": acct, "balance": num(bal[0]), "transfers": bal[1], "site": app.site})
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        self.t0, self.note = time.monotonic(), ""
        app = self.app
        try:
            body = self.read_json()
        except ValueError as e:
            self.close_connection = True
            self.reply(400, {"error": "bad request: %s" % e})
            return
        path = self.path.split("?")[0]
        if path == "/transfer":
            code, obj = self.transfer(body)
            self.reply(code, obj)
        elif path == "/admin/vendor":
            v = body.get("vendor") if isinstance(body, dict) else None
            if v not in app.vendors:
                self.reply(400, {"error": "unknown vendor", "known": sorted(app.vendors)})
                return
            write_atomic(app.vendor_path, v + "\n")
            self.note = "vendor now %s" % v
            self.reply(200, {"vendor": v, "url": app.vendors[v]})
        else:
            self.reply(404, {"error": "not found"})

    def transfer(self, body):
        app = self.app
        try:
            tid, account, amount = parse_transfer(body)
        except ValueError as e:
            return 400, {"error": str(e)}
        vendor = app.vendor()
        url = app.vendors.get(vendor)
        if url is None:
            self.note = "unknown vendor in %s" % app.vendor_path
            return 502, {"error": "vendor", "detail": "unknown vendor %r" % vendor, "site": app.site}
        try:
            with app.db(DB_DEADLINE_S) as db:
                # 1. writable, and not already done
                in_recovery = db.query("SELECT pg_is_in_recovery()")[0][0]
                if in_recovery:
                    self.note = "db is a standby"
                    return 503, {"error": "db-readonly", "status": "standby", "site": app.site}
                old = db.query(ROW_SQL, (tid,))
                if old:
                    self.note = "duplicate id"
                    return 200, row_reply(old[0], app, duplicate=True)

                # 2. the vendor
                try:
                    status, data = http_json("POST", url.rstrip("/") + "/pay", {"id": tid, "amount": float(amount)},
                                             {"Authorization": "Bearer " + app.key()}, VENDOR_DEADLINE_S)
                except (OSError, http.client.HTTPException) as e:
                    self.note = "vendor %s: %s" % (vendor, type(e).__name__)
                    return 502, {"error": "vendor", "vendor": vendor, "detail": type(e).__name__, "site": app.site}
                if status != 200 or not isinstance(data, dict) or data.get("ok") is not True:
                    self.note = "vendor %s: HTTP %d" % (vendor, status)
                    return 502, {"error": "vendor", "vendor": vendor, "detail": "HTTP %d" % status,
                                 "site": app.site}

                # 3. record it; 200 only once this autocommit statement has returned
                db.query("INSERT INTO transactions (id, account, amount, vendor, site) VALUES (%s, %s, %s, %s, %s) "
                         "ON CONFLICT (id) DO NOTHING", (tid, account, amount, vendor, app.site),
                         deadline=time.monotonic() + INSERT_DEADLINE_S)
                if any("synchronous replication" in n for n in db.notices()):
                    self.note = "commit not replicated"
                    return 503, {"error": "unreplicated", "site": app.site}
                try:
                    row = db.query(ROW_SQL, (tid,), deadline=time.monotonic() + DB_DEADLINE_S)
                except (DbDown, psycopg2.Error):
                    row = None
                self.note = "vendor %s" % vendor
                if not row:
                    # committed, but the read-back failed: still the truth that it is done
                    return 200, {"id": tid, "balance": None, "vendor": vendor, "site": app.site,
                                 "served_by": app.site}
                return 200, row_reply(row[0], app)
        except DbDown as e:
            self.note = "db: %s" % str(e)[:120]
            return 503, {"error": "db-down", "status": "db-down", "site": app.site}
        except psycopg2.errors.ReadOnlySqlTransaction:
            self.note = "db is read-only"
            return 503, {"error": "db-readonly", "status": "standby", "site": app.site}
        except psycopg2.Error as e:
            self.note = "db error: %s" % str(e).strip().splitlines()[0][:120]
            return 503, {"error": "db-error", "site": app.site}


def parse_listen(s):
    host, sep, port = s.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected ADDR:PORT")
    return host.strip("[]"), int(port)


def parse_vendor_map(s):
    m = {}
    for item in s.split(","):
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.startswith("http://"):
            raise argparse.ArgumentTypeError("expected NAME=http://HOST:PORT[,...]")
        m[name.strip()] = url.strip()
    return m


def main():
    p = argparse.ArgumentParser(description="lab e-bank service")
    p.add_argument("--listen", type=parse_listen, required=True, help="ADDR:PORT")
    p.add_argument("--site", required=True)
    p.add_argument("--dsn", required=True, help="libpq connection string")
    p.add_argument("--srv", required=True, help="the site's /srv")
    p.add_argument("--vendor-map", type=parse_vendor_map, default={},
                   help="vendor-a=http://...,vendor-b=http://... (overrides the lab addresses)")
    a = p.parse_args()

    vendors = dict(DEFAULT_VENDORS)
    vendors.update(a.vendor_map)
    Handler.app = App(a.site, a.dsn, a.srv, vendors)
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(a.listen, Handler)

    def on_signal(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log("site %s listening on %s:%d, vendor %s" % (a.site, a.listen[0], a.listen[1], Handler.app.vendor()))
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
