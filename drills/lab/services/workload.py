#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""workload.py — the lab's customers: a steady stream of transfers, and the report that
turns their log into RTO and "no acknowledged transfer lost" evidence.

Owns: generating load through the gateway and measuring what customers saw.
Does not own: the services it calls, or the database comparison (the caller diffs the
ids file against `SELECT id FROM transactions`).
Started by drills/lab/lab.sh (`lab.sh workload ...`), drill playbooks and tests.

Run mode:
    workload.py [run] --gateway URL --rate N --log FILE [--duration S] [--account-prefix A]

  Starts one transfer every 1/N s (POST URL/transfer, unique uuid4 ids, accounts
  A1..A5, default prefix "A"), each in its own thread with a 2 s deadline, at most 16
  in flight; when all 16 are busy the schedule waits for a free slot and then carries
  on from "now" (no burst to catch up). Appends one JSON line per attempt to FILE,
  written when the attempt ends, exactly:
      {"t": <epoch s of the attempt's start, 3 decimals>, "id": "<uuid>", "ok": true|false,
       "status": <HTTP status, 0 when no answer (refused, reset, timeout)>, "ms": <int>,
       "site": "<site that served it (served_by/site of the reply), or null>"}
  ok is true exactly when the status is 200. Ends after --duration S, or on
  SIGTERM/SIGINT: no new attempts, in-flight ones finish (each within its deadline),
  then one summary line on stdout: {"sent": N, "ok": K, "failed": F}.

Report mode:
    workload.py report --log FILE [--since EPOCH] [--ids-out FILE]

  Prints one JSON object:
    sent, ok, failed       attempts with t >= since (all when --since is absent)
    first_failure_t        t of the first failed attempt with t >= since (null if none)
    first_ok_after_failure_t
                           t of the first ok attempt with t > first_failure_t (null if none)
    outage_s               first_ok_after_failure_t - first_failure_t, 3 decimals; null when
                           either is null (no failure, or not yet recovered)
    recovered              false when a failure was seen and no ok attempt followed it
    committed_ids_file     the file written with the id of every ok attempt in the whole log
                           (not only since), one per line, sorted: every one of them must be
                           a row in the database. Default FILE.ok-ids.
    bad_lines              lines that were not attempt records (ignored)
  Attempts are ordered by t (lines are written in completion order).
"""

import argparse
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse
import uuid

DEADLINE_S = 2.0
MAX_IN_FLIGHT = 16
MAX_BODY = 64 * 1024


def http_json(method, url, obj, timeout):
    """One HTTP exchange bounded by timeout overall. Returns (status, JSON or None)."""
    deadline = time.monotonic() + timeout
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        body = json.dumps(obj).encode()
        conn.request(method, u.path or "/", body=body,
                     headers={"Content-Type": "application/json", "Connection": "close"})
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded")
        conn.sock.settimeout(left)
        # With "Connection: close" http.client drops conn.sock once the headers are in;
        # the response keeps reading on the same socket with this timeout per read.
        resp = conn.getresponse()
        if time.monotonic() > deadline:
            raise TimeoutError("deadline exceeded")
        raw = resp.read(MAX_BODY)
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        return resp.status, data
    finally:
        conn.close()


class Runner:
    def __init__(self, a):
        self.url = a.gateway.rstrip("/") + "/transfer"
        self.prefix = a.account_prefix
        self.log = open(a.log, "a", buffering=1)
        self.lock = threading.Lock()
        self.slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self.stop = threading.Event()
        self.sent = self.ok = self.failed = 0

    def attempt(self, i):
        tid = str(uuid.uuid4())
        body = {"id": tid, "account": "%s%d" % (self.prefix, i % 5 + 1), "amount": round(1 + (i % 97) / 4, 2)}
        t = time.time()
        t0 = time.monotonic()
        status, site = 0, None
        try:
            status, data = http_json("POST", self.url, body, DEADLINE_S)
            if isinstance(data, dict):
                site = data.get("served_by") or data.get("site")
        except (OSError, http.client.HTTPException):
            pass
        finally:
            ms = int((time.monotonic() - t0) * 1000)
            ok = status == 200
            line = json.dumps({"t": round(t, 3), "id": tid, "ok": ok, "status": status, "ms": ms, "site": site})
            with self.lock:
                self.log.write(line + "\n")
                self.sent += 1
                if ok:
                    self.ok += 1
                else:
                    self.failed += 1
            self.slots.release()

    def run(self, rate, duration):
        period = 1.0 / rate
        start = time.monotonic()
        end = start + duration if duration else None
        next_t = start
        threads = []
        i = 0
        while not self.stop.is_set():
            now = time.monotonic()
            if end is not None and now >= end:
                break
            if now < next_t:
                self.stop.wait(min(next_t, end or next_t) - now)
                continue
            while not self.slots.acquire(timeout=0.1):
                if self.stop.is_set():
                    break
            else:
                th = threading.Thread(target=self.attempt, args=(i,), daemon=True)
                th.start()
                threads.append(th)
                threads = [x for x in threads if x.is_alive()] if len(threads) > 4 * MAX_IN_FLIGHT else threads
                i += 1
                next_t += period
                if next_t < time.monotonic() - period:
                    next_t = time.monotonic()     # slipped: carry on from now, no burst
        for th in threads:
            th.join(DEADLINE_S + 1)
        self.log.close()
        return {"sent": self.sent, "ok": self.ok, "failed": self.failed}


def cmd_run(a):
    if a.rate <= 0:
        sys.exit("workload: --rate must be positive")
    r = Runner(a)
    signal.signal(signal.SIGTERM, lambda *_: r.stop.set())
    signal.signal(signal.SIGINT, lambda *_: r.stop.set())
    print(json.dumps(r.run(a.rate, a.duration)), flush=True)
    return 0


def cmd_report(a):
    attempts, bad = [], 0
    with open(a.log) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                o = json.loads(line)
                if not (isinstance(o, dict) and isinstance(o.get("t"), (int, float))
                        and isinstance(o.get("ok"), bool) and isinstance(o.get("id"), str)):
                    raise ValueError
            except ValueError:
                bad += 1
                continue
            attempts.append(o)
    attempts.sort(key=lambda o: o["t"])
    sel = [o for o in attempts if a.since is None or o["t"] >= a.since]
    ok = sum(1 for o in sel if o["ok"])
    first_fail = next((o["t"] for o in sel if not o["ok"]), None)
    first_ok_after = None
    if first_fail is not None:
        first_ok_after = next((o["t"] for o in sel if o["ok"] and o["t"] > first_fail), None)
    outage = round(first_ok_after - first_fail, 3) if first_fail is not None and first_ok_after is not None else None
    ids_file = a.ids_out or a.log + ".ok-ids"
    with open(ids_file, "w") as f:
        for tid in sorted({o["id"] for o in attempts if o["ok"]}):
            f.write(tid + "\n")
    print(json.dumps({"sent": len(sel), "ok": ok, "failed": len(sel) - ok,
                      "first_failure_t": first_fail, "first_ok_after_failure_t": first_ok_after,
                      "outage_s": outage, "recovered": first_fail is None or first_ok_after is not None,
                      "committed_ids_file": ids_file, "bad_lines": bad}))
    return 0


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "report":
        p = argparse.ArgumentParser(prog="workload.py report")
        p.add_argument("--log", required=True)
        p.add_argument("--since", type=float)
        p.add_argument("--ids-out")
        return cmd_report(p.parse_args(argv[1:]))
    if argv and argv[0] == "run":
        argv = argv[1:]
    p = argparse.ArgumentParser(prog="workload.py", description="lab customers (see `workload.py report -h`)")
    p.add_argument("--gateway", required=True, help="base URL, e.g. http://10.213.0.10")
    p.add_argument("--rate", type=float, required=True, help="attempts per second")
    p.add_argument("--log", required=True)
    p.add_argument("--duration", type=float, help="seconds (default: until SIGTERM/SIGINT)")
    p.add_argument("--account-prefix", default="A")
    return cmd_run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
