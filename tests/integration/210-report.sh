#!/usr/bin/env bash
# Reports from a real run: a playbook over real SSH and HTTP with a failed-then-retried
# step, a measured RTO and RPO, and step output holding HTML; then `droverctl report
# run|drill` in Markdown, JSON and HTML. The HTML is opened in a real headless Chromium:
# it renders, and its DOM has the timeline SVG with one bar per step attempt; the
# user-provided text is escaped; the API token never appears in any report.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_start_http
lab_config

cat >"$LAB/report.yaml" <<'YAML'
name: report-switchover
description: a switchover-shaped run for the report test
kind: switchover
params:
  fault_at: {type: string, default: ""}
objectives: {rto: 60s, rpo: 5s}
targets:
  db: {host: h1}
  api: {endpoint: api}
steps:
  - name: standby-lag
    ssh: {target: db, command: "echo '<script>alert(1)</script> & lag=0'"}
    register: true
  - name: flaky-check
    ssh: {target: db, command: "test -e $HOME/flaky.flag || { touch $HOME/flaky.flag; echo not yet >&2; exit 3; }"}
    retries: 1
    retry_delay: 50ms
  - name: backup-healthy
    http: {target: api, url: /json}
    expect: {status: 200, json: {data.state: ready}}
  - name: optional-extra
    http: {target: api, url: /no-such-page}
    expect: {status: 200}
    on_failure: continue
  - name: measured-rto
    local:
      argv: [/usr/bin/python3, "-c", "import sys, time; print('%.3f' % (time.time() - float(sys.argv[1])))", "${params.fault_at}"]
    when: "params.fault_at != ''"
    expect: {matches: '^[0-9]+[.][0-9]+$'}
  - name: achieved-rpo
    local: {argv: [/bin/echo, "0.250"]}
YAML

fault_at=$(python3 -c 'import time; print("%.3f" % (time.time() - 2))')
(cd "$LAB/home" && "$DROVERCTL" run --config "$LAB/drover.yaml" "$LAB/report.yaml" -p fault_at="$fault_at") \
        >"$LAB/run.out" 2>&1 && rc=0 || rc=$?
cat "$LAB/run.out"
assert_eq "the run succeeds" 0 "$rc"
attempts=$(sql "select count(*) from step_attempts where run_id = 1")
assert_eq "the run journaled 7 step attempts (one retry)" 7 "$attempts"

R() { "$DROVERCTL" --config "$LAB/drover.yaml" report "$@"; }

# Markdown
md=$(R run 1) && rc=0 || rc=$?
assert_eq "report run (md) exits 0" 0 "$rc"
for s in "Overview" "Recovery objectives" "Timeline" "Steps and timings" "Failures" "Who did what"; do
        assert_contains "md has section $s" "$md" "$s"
done
check "md: RTO objective 1m0s, achieved, met" grep -qE '^\| RTO \| 1m0s \| [0-9.]+s \| met \|$' <<<"$md"
check "md: RPO 5s objective, 250ms achieved, met" grep -qE '^\| RPO \| 5\.00s \| 250ms \| met \|$' <<<"$md"
assert_contains "md lists the failed first try" "$md" "| 1 | 2 | flaky-check | forward | h1 | 1 |"
assert_contains "md names who started the run" "$md" "| root | run-started |"
check "md: raw HTML from step output only inside fenced blocks, escaped elsewhere" python3 - "$md" <<'PY'
import re, sys
md = sys.argv[1]
fences = re.findall(r"^(`{3,})text\n(.*?)^\1$", md, re.S | re.M)
assert any("<script>alert(1)</script> & lag=0" in body for _, body in fences)
prose = re.sub(r"^(`{3,})text\n.*?^\1$", "", md, flags=re.S | re.M)
assert "<script" not in prose, prose
PY

# JSON
json=$(R run 1 --format json) && rc=0 || rc=$?
assert_eq "report run (json) exits 0" 0 "$rc"
check "json: schema, kind, counts and RTO verdict" python3 - "$json" "$attempts" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["schema"] == "drover-report/1", d["schema"]
assert d["kind"] == "run" and d["drill"] is False
assert len(d["steps"]) == int(sys.argv[2]), len(d["steps"])
res = d["results"]
assert res["objectives"]["known"] is True and res["objectives"]["rto_us"] == 60_000_000
assert res["rto_us"] > 0 and res["rto_met"] is True, res
assert res["rpo_us"] == 250_000 and res["rpo_met"] is True, res
assert res["failed_attempts"] == 2, res  # flaky-check try 1, optional-extra
kinds = [m["kind"] for m in d["timeline"]["marks"]]
for k in ("fault", "decision", "recovery", "rto-objective"):
    assert k in kinds, kinds
assert d["steps"][0]["stdout"].startswith("<script>alert(1)</script> & lag=0")
PY
check "--json is --format json (but for the generation time)" python3 - "$json" \
        "$("$DROVERCTL" --config "$LAB/drover.yaml" --json report run 1)" <<'PY'
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
for d in (a, b):
    del d["generated_us"], d["generated"]
assert a == b
PY

# HTML, written atomically with -o
R run 1 --format html -o "$LAB/run1.html" && rc=0 || rc=$?
assert_eq "report run (html) exits 0" 0 "$rc"
html=$(cat "$LAB/run1.html")
assert_not_contains "html: no raw <script> anywhere" "$html" "<script"
assert_contains "html: step output escaped" "$html" "&lt;script&gt;alert(1)&lt;/script&gt; &amp; lag=0"
assert_not_contains "html: no external resource" "$html" "<link"
check "no temporary file left beside the output" bash -c "[ -z \"\$(ls -A '$LAB' | grep '^\.run1')\" ]"

token=$(cat "$LAB/api-token")
assert_not_contains "the API token is in no md report" "$md" "$token"
assert_not_contains "the API token is in no json report" "$json" "$token"
assert_not_contains "the API token is in no html report" "$html" "$token"

# A real browser: headless Chromium renders the page; the DOM has the timeline and its bars.
chrome() {
        timeout 120 chromium --headless --disable-gpu --no-sandbox --no-first-run --disable-extensions \
                --user-data-dir="$LAB/chromium" "$@" 2>>"$LAB/chromium.log"
}
chrome --dump-dom "file://$LAB/run1.html" >"$LAB/run1.dom" && rc=0 || rc=$?
assert_eq "chromium --dump-dom exits 0" 0 "$rc"
check "DOM: the timeline SVG with one bar per step attempt, milestones, the escaped text" \
        python3 - "$LAB/run1.dom" "$attempts" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.svg = 0; self.bars = 0; self.marks = 0; self.scripts = 0
        self.text = []; self.in_svg = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("id") == "timeline": self.svg += 1; self.in_svg = True
        if tag == "rect" and self.in_svg and "bar" in a.get("class", "").split(): self.bars += 1
        if tag == "g" and self.in_svg and "mark" in a.get("class", "").split(): self.marks += 1
        if tag == "script": self.scripts += 1
    def handle_endtag(self, tag):
        if tag == "svg": self.in_svg = False
    def handle_data(self, d): self.text.append(d)
p = P(); p.feed(open(sys.argv[1]).read())
assert p.svg == 1, p.svg
assert p.bars == int(sys.argv[2]), (p.bars, sys.argv[2])
assert p.marks >= 4, p.marks
assert p.scripts == 0, p.scripts
assert "<script>alert(1)</script> & lag=0" in "".join(p.text)
PY
chrome --screenshot="$LAB/run1.png" --window-size=1200,2000 --hide-scrollbars "file://$LAB/run1.html" >/dev/null \
        && rc=0 || rc=$?
assert_eq "chromium --screenshot exits 0" 0 "$rc"
check "the screenshot is a 1200x2000 PNG that is not blank" python3 - "$LAB/run1.png" <<'PY'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1200, 2000), (w, h)
i, idat = 8, b""
while i < len(b):
    n, = struct.unpack(">I", b[i:i+4]); t = b[i+4:i+8]
    if t == b"IDAT": idat += b[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
# Rendered text and bars: many distinct byte values, not one background colour.
assert len(set(raw[: len(raw) // 3])) > 50, len(set(raw))
PY
[ -n "${REPORT_SCREENSHOT_DIR:-}" ] && cp "$LAB/run1.png" "$LAB/run1.html" "$REPORT_SCREENSHOT_DIR"/ || true

# Drill reports. A live run is refused as a drill.
R drill 1 >"$LAB/drill-refused.out" 2>&1 && rc=0 || rc=$?
assert_eq "report drill of a live run exits 2" 2 "$rc"
assert_contains "and says why" "$(cat "$LAB/drill-refused.out")" "is not a drill"
# A real live drill (droverctl drill start): the fault is injected and cleared by local
# programs, the same playbook runs over SSH and HTTP in mode drill; then an evaluation
# and an improvement action, as the drill verbs record them.
cat >"$LAB/drill.yaml" <<EOF
name: report-drill
purpose: prove the switchover report end to end
mode: live
scenario:
  fault: custom
  description: a file stands for the outage
  inject: [/usr/bin/touch, $LAB/fault]
  clear: [/bin/rm, -f, $LAB/fault]
  timeout: 5s
playbooks:
  - name: $LAB/report.yaml
    params: {fault_at: "\${drill.fault_at}"}
participants:
  - {name: Alice, role: command-centre}
  - {name: Bob, role: technical-support}
objectives:
  rto: 60s
  rpo: 5s
  recovered_at: backup-healthy
  rpo_from: achieved-rpo
EOF
rm -f "$LAB/home/flaky.flag"
(cd "$LAB/home" && "$DROVERCTL" --config "$LAB/drover.yaml" drill start "$LAB/drill.yaml" </dev/null) \
        >"$LAB/drill.out" 2>&1 && rc=0 || rc=$?
sed 's/^/# /' "$LAB/drill.out"
assert_eq "the live drill succeeds" 0 "$rc"
drun=$(sql "select run_id from drill_run_runs where drill_run_id = 1")
assert_eq "its playbook run is journaled in mode drill" "drill" "$(sql "select mode from runs where id = $drun")"
"$DROVERCTL" --config "$LAB/drover.yaml" drill evaluate 1 --objectives 5 "RTO <well> within objective" \
        --coordination 3 "duty office & vendor late" --evaluator "Carol (risk)" >/dev/null && rc=0 || rc=$?
assert_eq "drill evaluate exits 0" 0 "$rc"
"$DROVERCTL" --config "$LAB/drover.yaml" drill action add --run 1 --finding "flaky check needs a retry" \
        --action "make the check idempotent" --owner "Bob" --due 2027-03-31 >/dev/null && rc=0 || rc=$?
assert_eq "drill action add exits 0" 0 "$rc"

dmd=$(R drill "$drun") && rc=0 || rc=$?
assert_eq "report drill (md) exits 0" 0 "$rc"
assert_contains "drill md is marked as a drill" "$dmd" "DRILL, not a real incident"
assert_contains "drill md names the drill's participants" "$dmd" \
        "| Participants | Alice (command-centre), Bob (technical-support) |"
check "drill md: the drill's RTO against its objective" grep -qE '^\| RTO \| 1m0s \| [0-9.]+m?s \| met \|$' <<<"$dmd"
assert_contains "drill md: the RTO is the drill run's measurement" "$dmd" "RTO measured by drill run 1"
assert_contains "drill md: the evaluation" "$dmd" "| coordination | 3/5 | Carol (risk) |"
assert_contains "drill md: the assessment, escaped" "$dmd" "RTO &lt;well&gt; within objective"
assert_contains "drill md: the improvement action" "$dmd" "| make the check idempotent | Bob | 2027-03-31 | open"
R drill "$drun" -f json >"$LAB/drill.json" && rc=0 || rc=$?
assert_eq "report drill (json) exits 0" 0 "$rc"
check "drill json: kind drill, the drill run, its evaluation and action, the injected fault" \
        python3 - "$LAB/drill.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kind"] == "drill" and d["drill"] is True
dr = d["drill_run"]
assert dr["drill"] == "report-drill", dr["drill"]
assert len(dr["evaluation"]) == 2 and len(dr["improvement_actions"]) == 1, dr
assert dr["fault_injected_us"] > 0 and d["timeline"]["fault_us"] > 0
assert d["results"]["rto_met"] is True, d["results"]
PY
R drill "$drun" -f html -o "$LAB/drill.html" && rc=0 || rc=$?
assert_eq "report drill (html) exits 0" 0 "$rc"
chrome --dump-dom "file://$LAB/drill.html" >"$LAB/drill.dom" && rc=0 || rc=$?
assert_eq "chromium renders the drill report" 0 "$rc"
check "drill DOM: banner, timeline bars, evaluation and actions tables" python3 - "$LAB/drill.dom" \
        "$(sql "select count(*) from step_attempts where run_id = $drun")" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
assert 'id="drill-banner"' in dom
svg = re.search(r'<svg id="timeline".*?</svg>', dom, re.S).group(0)
assert len(re.findall(r'<rect class="bar ', svg)) == int(sys.argv[2])
ev = re.search(r'<table id="evaluation">.*?</table>', dom, re.S).group(0)
assert "3/5" in ev and "5/5" in ev and "RTO &lt;well&gt; within objective" in ev, ev
acts = re.search(r'<table id="improvement-actions">.*?</table>', dom, re.S).group(0)
assert "make the check idempotent" in acts
PY
chrome --screenshot="$LAB/drill.png" --window-size=1200,3000 --hide-scrollbars "file://$LAB/drill.html" \
        >/dev/null && rc=0 || rc=$?
assert_eq "chromium screenshots the drill report" 0 "$rc"
[ -n "${REPORT_SCREENSHOT_DIR:-}" ] && cp "$LAB/drill.png" "$LAB/drill.html" "$REPORT_SCREENSHOT_DIR"/ || true

# Bad usage: exit 2; an unwritable output: exit 3.
R run 99 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "unknown run exits 2" 2 "$rc"
R incident 99 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "unknown incident exits 2" 2 "$rc"
R run 1 --format pdf >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "unknown format exits 2" 2 "$rc"
R bogus 1 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "unknown kind exits 2" 2 "$rc"
R run 1 -o "$LAB/no/such/dir/r.md" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "unwritable output exits 3" 3 "$rc"
lab_done
