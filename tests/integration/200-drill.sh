#!/usr/bin/env bash
# Drills without the lab (tests/lab/130-drill-switchover.sh runs one on it):
#  - every shipped drill validates against the lab's inventory; a broken one is refused
#    with path:line:col;
#  - a tabletop drill of the shipped site switchover, driven from a script (ack and
#    challenge with who and comment on stdin): nothing executed, answers and timings
#    journaled, the run listed under DRILLS apart from a real run; stdin closing early
#    aborts it;
#  - a live drill whose inject/clear commands and playbook are local programs: the fault
#    is injected and cleared, RTO and RPO measured from the journal, objectives judged,
#    events journaled; a failing one still clears its fault;
#  - `drill status` with a fake clock ($DROVER_NOW): drilled playbooks are ok, 13 months
#    later they are flagged, and drills are overdue per their schedule;
#  - evaluation and improvement actions round trip, from options and from a file;
#  - `drill timer` prints a calendar systemd accepts;
#  - the audit chain covers the drill tables (verify holds, an edit is caught) and
#    retention keeps drill records and their runs.
source "$(dirname "$0")/lib.sh"
SRC=$DROVER_SOURCE_ROOT

# The lab's inventory (drills/lab/lib/config.sh), pointing at this tree's playbooks, so
# the shipped drills resolve; nothing here is contacted (tabletop, local steps only).
touch "$LAB/id" "$LAB/known_hosts"
cat >"$LAB/drover.yaml" <<EOF
journal: $LAB/drover.db
playbook_dir: $SRC/playbooks
defaults:
  step_timeout: 30s
  ssh: {user: root, key: $LAB/id, known_hosts: $LAB/known_hosts, connect_timeout: 3s}
sites: {primary: {role: primary}, backup: {role: backup}, gateway: {role: other}, vendor-a: {role: other}, vendor-b: {role: other}}
hosts:
  primary-db: {site: primary, address: 10.213.0.11}
  backup-db: {site: backup, address: 10.213.0.12}
  gateway: {site: gateway, address: 10.213.0.10}
  vendor-a-host: {site: vendor-a, address: 10.213.0.21}
  vendor-b-host: {site: vendor-b, address: 10.213.0.22}
groups: {ebank-sites: [primary-db, backup-db]}
endpoints:
  gateway-public: {site: gateway, url: http://10.213.0.10}
  gateway-admin: {site: gateway, url: http://10.213.0.10:8081}
  primary-app: {site: primary, url: http://10.213.0.11:8080}
  backup-app: {site: backup, url: http://10.213.0.12:8080}
  vendor-a-api: {site: vendor-a, url: http://10.213.0.21:8080}
  vendor-b-api: {site: vendor-b, url: http://10.213.0.22:8080}
  duty-office: {url: http://10.213.0.1:8099}
vendors: {vendor-a: {endpoint: vendor-a-api}, vendor-b: {endpoint: vendor-b-api}}
EOF
ctl() { "$DROVERCTL" --config "$LAB/drover.yaml" --no-color "$@"; }

# --- validation ---------------------------------------------------------------------------
out=$(ctl validate "$SRC"/drills/*.yaml 2>&1) && rc=0 || rc=$?
assert_eq "every shipped drill validates against the lab inventory" "0 OK" "$rc $out"
mkdir -p "$LAB/own"
sed 's/role: risk}/role: riks}/; s/fault: site-down/fault: site-dwn/' "$SRC/drills/site-switchover-tabletop.yaml" \
        >"$LAB/own/broken.yaml"
out=$(ctl validate "$LAB/own/broken.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "a broken drill is refused (exit 2)" 2 "$rc"
assert_contains "…with the fault kind's location and suggestion" "$out" \
        "broken.yaml:7:10: error: unknown fault kind 'site-dwn' (did you mean 'site-down'?)"
assert_contains "…and every other error in the same pass" "$out" "unknown role 'riks' (did you mean 'risk'?)"
out=$(ctl drill start "$LAB/own/broken.yaml" </dev/null 2>&1) && rc=0 || rc=$?
assert_eq "drill start refuses it and runs nothing (exit 2)" 2 "$rc"
assert_eq "…and journals nothing" 0 "$(sql "select count(*) from runs" 2>/dev/null || echo 0)"
rm "$LAB/own/broken.yaml"

# --- a real run, for the separation check ------------------------------------------------
cat >"$LAB/real.yaml" <<'EOF'
name: real-one
kind: custom
steps:
  - name: noop
    local: {argv: [/bin/true]}
EOF
out=$(ctl run "$LAB/real.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "a real (manual) run succeeds" 0 "$rc"

# --- tabletop, driven from a script --------------------------------------------------------
answers="ack | DBA on call | lag check is clear
challenge | risk | who approves fencing the primary?
nonsense
ack | Nobody Here
challenge | DBA on call
ack
ack | command-centre
ack
ack | E-bank operations | customers see the backup
ack
ack
ack
ack"
t_start=$(date +%s)
out=$(printf '%s\n' "$answers" | ctl drill start site-switchover-tabletop 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "tabletop drill exits 0" 0 "$rc"
assert_contains "it says it is a drill, not an incident" "$out" "DRILL run 1: site-switchover-tabletop (tabletop) — not an incident"
assert_contains "a wrong answer is asked again" "$out" "'nonsense' is not an answer"
assert_contains "an unknown participant is refused" "$out" "'Nobody Here' is not a participant"
assert_contains "a challenge without a comment is refused" "$out" "a challenge needs a comment"
assert_contains "summary counts answers" "$out" "9 step(s) acknowledged, 1 challenged"
assert_eq "the run is journaled as tabletop with trigger drill" "tabletop|drill|succeeded" \
        "$(sql "select mode, trigger, outcome from runs where id = 2")"
assert_eq "nothing was executed: every attempt of the tabletop is 'skipped'" "skipped" \
        "$(sql "select group_concat(distinct outcome) from step_attempts where run_id = 2")"
assert_eq "one answer per step, forward and rollback (10)" 10 "$(sql "select count(*) from drill_reviews")"
assert_eq "the challenge is journaled with who and why" \
        "cut-primary-from-gateway|challenge|Operational risk (risk)|who approves fencing the primary?" \
        "$(sql "select step_name, verdict, who, comment from drill_reviews where verdict = 'challenge'")"
check "every answer has shown <= answered times" \
        test "$(sql "select count(*) from drill_reviews where answered_at >= shown_at and shown_at >= $t_start * 1000000")" = 10
assert_eq "the drill run links the playbook run" "1|1|2|site-switchover" \
        "$(sql "select drill_run_id, seq, run_id, playbook from drill_run_runs")"
assert_eq "the drill run is recorded" "site-switchover-tabletop|tabletop|succeeded|site-down|primary" \
        "$(sql "select drill, mode, outcome, fault, fault_subject from drill_runs where id = 1")"

out=$(ctl runs 2>&1)
echo "$out" | sed 's/^/# /'
real_section=$(sed -n '/^RUNS/,/^$/p' <<<"$out")
drill_section=$(sed -n '/^DRILLS/,$p' <<<"$out")
assert_contains "runs: the real run is under RUNS" "$real_section" "real-one"
assert_not_contains "runs: no drill among the real runs" "$real_section" "site-switchover"
assert_contains "runs: the tabletop is under DRILLS" "$drill_section" "site-switchover          tabletop drill"
assert_eq "runs --json flags drills" "false true" \
        "$(ctl runs --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(" ".join(str(x["drill"]).lower() for x in sorted(r, key=lambda x: x["id"])))')"
out=$(ctl show 2)
assert_contains "show marks a drill run" "$out" "DRILL, not an incident"

out=$(printf 'ack\nack\n' | ctl drill start site-switchover-tabletop 2>&1) && rc=0 || rc=$?
assert_eq "a tabletop whose answers run out exits 1" 1 "$rc"
assert_eq "…and is journaled aborted, with why" "aborted|standard input closed before every step was answered" \
        "$(sql "select outcome, error from drill_runs where id = 2")"
assert_eq "…its run aborted too" aborted "$(sql "select outcome from runs where id = 3")"

# --- live drill with local programs ----------------------------------------------------------
mkdir -p "$LAB/pb"
cat >"$LAB/pb/recover.yaml" <<'EOF'
name: recover
kind: custom
params:
  reason: {type: string, required: true}
  fault_at: {type: string, default: ""}
  fail: {type: bool, default: false}
steps:
  - name: fault-seen
    local: {argv: [/bin/sh, -c, "test -e \"$0\"", "${params.reason}"]}
  - name: repair
    local: {argv: [/bin/sh, -c, "sleep 0.2; test \"$0\" = false", "${params.fail}"]}
  - name: verify
    local: {argv: [/bin/true]}
  - name: measure-rpo
    local: {argv: [/bin/echo, "0.5"]}
EOF
cat >"$LAB/own/local-live.yaml" <<EOF
name: local-live
purpose: exercise the live machinery with local programs
mode: live
scenario:
  fault: custom
  description: a file stands for the fault
  inject: [/usr/bin/touch, $LAB/fault]
  clear: [/bin/rm, -f, $LAB/fault]
  timeout: 5s
playbooks:
  - name: $LAB/pb/recover.yaml
    params: {reason: "$LAB/fault", fault_at: "\${drill.fault_at}"}
participants:
  - {name: Tester, role: technical-support}
objectives:
  rto: 30s
  rpo: 1s
  recovered_at: verify
  rpo_from: measure-rpo
  must_succeed: [fault-seen, repair]
EOF
out=$(ctl drill start "$LAB/own/local-live.yaml" </dev/null 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "live drill exits 0" 0 "$rc"
assert_contains "it reports the objectives met" "$out" "objectives MET"
check "the fault was cleared" test ! -e "$LAB/fault"
assert_eq "the fault was seen by the playbook (injected before it ran)" ok \
        "$(sql "select outcome from step_attempts where step_name = 'fault-seen' and run_id = 4")"
assert_eq "the playbook ran for real with mode drill, trigger drill" "drill|drill|succeeded" \
        "$(sql "select mode, trigger, outcome from runs where id = 4")"
assert_eq "fault_at was handed to the playbook" 1 \
        "$(sql "select count(*) from runs where id = 4 and params_json like '%\"fault_at\":\"1%'")"
row=$(sql "select outcome, objectives_met, rpo_us, rto_us > 200000, rto_us < 30000000,
        fault_injected_at > 0, fault_cleared_at >= recovered_at, recovered_at > fault_injected_at from drill_runs where id = 3")
assert_eq "drill run: succeeded, met, RPO 0.5 s, RTO measured from the fault to verify" \
        "succeeded|1|500000|1|1|1|1|1" "$row"
assert_eq "RTO ends at the verify step's end" 1 \
        "$(sql "select count(*) from drill_runs d, step_attempts s where d.id = 3 and s.run_id = 4 and s.step_name = 'verify' and d.recovered_at = s.ended and d.rto_us = s.ended - d.fault_injected_at")"
assert_eq "fault injection and clearing are journal events" "drill-fault-injected drill-fault-cleared" \
        "$(sql "select group_concat(kind, ' ') from events where kind like 'drill-fault-%' order by id")"

out=$(ctl drill show 3 2>&1)
assert_contains "drill show: achieved RTO against objective" "$out" "(objective 30.00s)"
assert_contains "drill show: per-step timings" "$out" "measure-rpo"
out=$(ctl drill show 3 --json)
assert_eq "drill show --json: RPO and steps" "500000 4" \
        "$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["rpo_us"], len(d["runs"][0]["steps"]))' "$out")"

sed 's/params: {reason: /params: {fail: true, reason: /' "$LAB/own/local-live.yaml" >"$LAB/own/local-live-fail.yaml"
sed -i 's/^name: local-live$/name: local-live-fail/' "$LAB/own/local-live-fail.yaml"
out=$(ctl drill start "$LAB/own/local-live-fail.yaml" </dev/null 2>&1) && rc=0 || rc=$?
assert_eq "a live drill whose playbook fails exits 1" 1 "$rc"
check "…and still clears its fault" test ! -e "$LAB/fault"
assert_eq "…journaled failed, objectives not met, RTO unknown" "failed|0|-1" \
        "$(sql "select outcome, objectives_met, rto_us from drill_runs where id = 4")"
assert_contains "…saying which step had to succeed" "$out" "Step that had to succeed but did not: repair"

# --- status with a fake clock --------------------------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
later=$(date -u -d '+13 months' +%Y-%m-%dT%H:%M:%SZ)
js=$(DROVER_NOW=$now ctl drill status --json)
pb() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(next(str(p["ok"]).lower() + " " + str(p["problem"]) for p in d["playbooks"] if p["playbook"] == sys.argv[2]))' "$1" "$2"; }
dr() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(next(str(p["ok"]).lower() + " " + str(p["problem"]) for p in d["drills"] if p["drill"] == sys.argv[2]))' "$1" "$2"; }
assert_eq "status now: site-switchover was drilled (tabletop)" "true None" "$(pb "$js" site-switchover)"
assert_eq "status now: site-failback never drilled" "false never drilled" "$(pb "$js" site-failback)"
assert_eq "status now: the tabletop drill is not due" "true None" "$(dr "$js" site-switchover-tabletop)"
assert_eq "status now: the live switchover drill never ran" "false never run" "$(dr "$js" site-switchover)"
js=$(DROVER_NOW=$later ctl drill status --json)
assert_eq "status in 13 months: site-switchover flagged" "false not drilled in the last 12 months" \
        "$(pb "$js" site-switchover)"
assert_eq "status in 13 months: the tabletop drill is overdue" "false overdue per its schedule" \
        "$(dr "$js" site-switchover-tabletop)"
out=$(DROVER_NOW=$later ctl drill status 2>&1) && rc=0 || rc=$?
assert_eq "status without --check exits 0" 0 "$rc"
assert_contains "status prints the flag" "$out" "not drilled in the last 12 months"
DROVER_NOW=$later ctl drill status --check >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "status --check exits 1 when something is flagged" 1 "$rc"
DROVER_NOW=yesterday ctl drill status >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a malformed DROVER_NOW is refused (exit 2)" 2 "$rc"

# --- evaluation and actions ------------------------------------------------------------------
out=$(ctl drill evaluate 1 --objectives 4 "RTO plausible on paper" --procedure 3 "fencing approver unclear" \
        --coordination 5 "everyone reachable" --resources 4 "DBA alone at night" --lessons "name the approver" \
        --evaluator "Carol (risk)" 2>&1) && rc=0 || rc=$?
assert_eq "evaluate with options exits 0" 0 "$rc"
assert_eq "four scored criteria and the lessons are journaled" \
        "objectives:4 procedure:3 coordination:5 resources:4 lessons:0" \
        "$(sql "select group_concat(criterion || ':' || score, ' ') from drill_evaluations where drill_run_id = 1 order by id")"
ctl drill evaluate 1 --objectives 6 "too good" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a score outside 1..5 is refused (exit 2)" 2 "$rc"
ctl drill evaluate 99 --objectives 3 "x" >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "an unknown drill run is refused (exit 2)" 2 "$rc"
cat >"$LAB/eval.yaml" <<'EOF'
objectives: {score: 2, text: "RTO missed on paper: fencing waits for a phone call"}
coordination: {score: 3, text: "duty office learned late"}
findings:
  - {finding: "fencing approver unclear", action: "name the approver in the plan", owner: "Operational risk", due: "2020-01-31"}
  - {finding: "duty office learns late", action: "page the duty office first", owner: "Duty office", due: "2099-06-30"}
EOF
out=$(ctl drill evaluate 3 --from "$LAB/eval.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "evaluate --from FILE exits 0" 0 "$rc"
assert_contains "…recording 2 criteria and 2 actions" "$out" "Recorded 2 evaluation item(s) and 2 action(s) for drill run 3"
printf 'objectives: {score: 9}\nfinding: []\n' >"$LAB/bad-eval.yaml"
out=$(ctl drill evaluate 3 --from "$LAB/bad-eval.yaml" 2>&1) && rc=0 || rc=$?
assert_eq "a bad evaluation file is refused whole (exit 2)" 2 "$rc"
assert_contains "…with path:line:col" "$out" "bad-eval.yaml:2:1: error: unknown key 'finding' in evaluation (did you mean 'findings'?)"
assert_eq "…and nothing of it recorded" 2 "$(sql "select count(*) from drill_evaluations where drill_run_id = 3")"
out=$(ctl drill action add --run 1 --finding "no backup DBA" --action "train a second DBA" --owner "Head of IT" --due 2027-06-30 2>&1) && rc=0 || rc=$?
assert_eq "action add exits 0" 0 "$rc"
ctl drill action add --finding x --action y --owner z --due 31.12.2027 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "a malformed due date is refused (exit 2)" 2 "$rc"
out=$(DROVER_NOW=2026-12-01T00:00:00Z ctl drill actions --open 2>&1)
echo "$out" | sed 's/^/# /'
assert_contains "open actions list the one past due as OVERDUE" "$out" "name the approver in the plan (fencing approver unclear)  OVERDUE"
assert_eq "three open actions" 3 "$(ctl drill actions --open --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
ctl drill action update 1 --status in-progress --comment "drafted" >/dev/null && rc=0 || rc=$?
assert_eq "action update exits 0" 0 "$rc"
ctl drill action close 1 --comment "plan v3 names the approver" >/dev/null && rc=0 || rc=$?
assert_eq "action close exits 0" 0 "$rc"
ctl drill action close 1 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq "closing a closed action is refused (exit 2)" 2 "$rc"
ctl drill action close 2 --cancel --comment "merged into 3" >/dev/null && rc=0 || rc=$?
assert_eq "cancel exits 0" 0 "$rc"
assert_eq "only the third action is still open" 3 \
        "$(ctl drill actions --open --json | python3 -c 'import json,sys; print(" ".join(str(a["id"]) for a in json.load(sys.stdin)))')"
assert_eq "the status history of action 1 is kept, newest last" "open in-progress done" \
        "$(sql "select group_concat(status, ' ') from drill_action_log where action_id = 1 order by id")"
check "the journal refuses deleting an evaluation" bash -c "! sqlite3 '$LAB/drover.db' 'delete from drill_evaluations' 2>/dev/null"
out=$(ctl drill show 1)
assert_contains "drill show lists the evaluation" "$out" "procedure     3/5  fencing approver unclear"
assert_contains "drill show lists the actions" "$out" "train a second DBA"

# --- timer calendar ----------------------------------------------------------------------------
for d in "$SRC"/drills/*.yaml; do
        name=$(basename "$d" .yaml)
        cal=$(ctl drill timer "$name" | sed -n 's/^OnCalendar=\(..*\)$/\1/p')
        systemd-analyze calendar "$cal" >/dev/null 2>&1 && rc=0 || rc=$?
        assert_eq "drill timer $name: OnCalendar '$cal' is valid for systemd" 0 "$rc"
done
assert_eq "the switchover drill's own calendar is used" "*-03-15 02:00:00" \
        "$(ctl drill timer site-switchover | sed -n 's/^OnCalendar=\(..*\)$/\1/p')"
out=$(ctl drill start --scheduled site-switchover-tabletop </dev/null 2>&1) && rc=0 || rc=$?
assert_eq "a scheduled tabletop is only announced (exit 0)" 0 "$rc"
assert_eq "…journaled as due, and not walked" "1 0" \
        "$(sql "select count(*) from events where kind = 'drill-due'") $(sql "select count(*) from drill_runs where actor = 'schedule'")"

# --- the audit chain covers the drill tables --------------------------------------------------
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
assert_eq "audit verify holds after every drill write" 0 "$rc"
check "every drill table has records in the chain" test "$(sql "select count(distinct tbl) from audit where tbl like 'drill_%'")" = 6
sql "UPDATE drill_runs SET objectives_met = 1 WHERE id = 4"
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
assert_eq "verify exits 1 after a failed drill was made to look met" 1 "$rc"
assert_contains "…naming the drill run" "$out" "table drill_runs, row 4"
sql "UPDATE drill_runs SET objectives_met = 0 WHERE id = 4"
check "putting it back makes verify pass again" ctl audit verify
# Retention keeps drill records, and the playbook runs they link to, whole.
cutoff=@$(( $(date +%s) + 1 ))
sleep 1.1 # prune refuses a cut-off in the future: let the clock pass it
n_drill_runs=$(sql "select count(*) from runs where trigger = 'drill'")
drill_rows() { sql "select (select count(*) from drill_runs) || ' ' || (select count(*) from drill_run_runs) || ' ' ||
        (select count(*) from drill_reviews) || ' ' || (select count(*) from drill_evaluations) || ' ' ||
        (select count(*) from drill_actions) || ' ' || (select count(*) from drill_action_log)"; }
before=$(drill_rows)
out=$(ctl journal prune --before "$cutoff" --reason "drill test" --yes 2>&1) && rc=0 || rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "prune works with drill records present" 0 "$rc"
assert_eq "the real runs are pruned" 0 "$(sql "select count(*) from runs where trigger <> 'drill'")"
assert_eq "the drill's runs are kept" "$n_drill_runs" "$(sql "select count(*) from runs where trigger = 'drill'")"
assert_eq "every drill record is kept ($before)" "$before" "$(drill_rows)"
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
assert_eq "verify passes after the prune" 0 "$rc"

lab_done
