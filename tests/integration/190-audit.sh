#!/usr/bin/env bash
# The journal's audit chain end to end: a real playbook over the test sshd is chained
# (every hash recomputed here with sha256sum from the documented format), `droverctl
# audit verify` passes, an edit with the sqlite3 shell is caught and named, an exported
# head is signed with ssh-keygen -Y and checked with verify --head, a rewrite after the
# export is caught, and `droverctl journal prune` is the only delete and keeps verify green.
source "$(dirname "$0")/lib.sh"
lab_start_sshd
lab_config

cat >"$LAB/audited.yaml" <<'YAML'
name: audited
kind: custom
targets:
  one: {host: h1}
steps:
  - name: check
    ssh: {target: one, command: "echo checked"}
  - name: fails
    ssh: {target: one, command: "echo bad >&2; exit 3"}
    on_failure: continue
  - name: after
    ssh: {target: one, command: "echo after"}
YAML

ctl() { "$DROVERCTL" --config "$LAB/drover.yaml" "$@"; }

out=$(ctl run "$LAB/audited.yaml" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "the run continues past step 'fails' (on_failure: continue) and exits 0" 0 "$rc"
assert_eq "the failing attempt is journaled with exit status 3" "failed|3" \
        "$(sql "select outcome, exit_status from step_attempts where step_name='fails'")"

out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "audit verify exits 0 on an untouched journal" 0 "$rc"
assert_contains "verify says OK with the record count" "$out" "OK: $(sql "select count(*) from audit") records"

# The format is exact enough to recompute every hash outside drover.
bad=0
prev=0000000000000000000000000000000000000000000000000000000000000000
while IFS='|' read -r seq at tbl row op dh ph h; do
        data_dh=$(sql "select data from audit where seq=$seq" | tr -d '\n' | sha256sum | cut -d' ' -f1)
        calc=$(printf 'drover-audit-v1\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$prev" "$seq" "$at" "$tbl" "$row" "$op" "$dh" |
                sha256sum | cut -d' ' -f1)
        if [ "$ph" != "$prev" ] || [ "$calc" != "$h" ] || [ "$data_dh" != "$dh" ]; then
                bad=$((bad + 1))
                echo "# record $seq does not recompute"
        fi
        prev=$h
done < <(sql "select seq, at, tbl, row_id, op, data_hash, prev_hash, hash from audit order by seq")
assert_eq "every record's hash recomputes with sha256sum" 0 "$bad"
assert_eq "each step attempt has an insert and an update record" \
        "$(sql "select 2 * count(*) from step_attempts")" \
        "$(sql "select count(*) from audit where tbl='step_attempts' and op in ('insert','update')")"

# Export the head and sign it (what an operator does after each run or daily).
head_line=$(ctl audit head)
head=${head_line%% *}
assert_eq "audit head prints SEQ:HASH of the last record" \
        "$(sql "select seq || ':' || hash from audit order by seq desc limit 1")" "$head"
ssh-keygen -q -t ed25519 -N '' -C auditor -f "$LAB/auditor"
printf '%s\n' "$head_line" >"$LAB/head.txt"
ssh-keygen -q -Y sign -f "$LAB/auditor" -n drover-audit "$LAB/head.txt" 2>/dev/null
printf 'auditor %s\n' "$(cut -d' ' -f1,2 "$LAB/auditor.pub")" >"$LAB/allowed_signers"
check "the signed head verifies with ssh-keygen -Y verify" \
        sh -c "ssh-keygen -Y verify -f '$LAB/allowed_signers' -I auditor -n drover-audit -s '$LAB/head.txt.sig' <'$LAB/head.txt' >/dev/null 2>&1"
json=$(ctl --json audit head)
assert_eq "audit head --json carries the same head" "$head" "$(jq -r .head <<<"$json")"

# More work after the export; the exported head still holds.
ctl run "$LAB/audited.yaml" >/dev/null 2>&1 || true
out=$(ctl audit verify --head "$head" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "verify --head passes after later runs" 0 "$rc"
assert_contains "verify --head says the exported head still holds" "$out" "still holds the exported head"

# Tampering with the sqlite3 shell: the failed step made to look successful.
step=$(sql "select id from step_attempts where step_name='fails' order by id limit 1")
sql "UPDATE step_attempts SET exit_status=0, outcome='ok' WHERE id=$step"
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "verify exits 1 after a row was edited" 1 "$rc"
assert_contains "verify names the problem, table and row" "$out" "row-changed"
assert_contains "verify names the edited row" "$out" "table step_attempts, row $step"
assert_contains "verify says which column differs" "$out" "column outcome: recorded \"failed\", now \"ok\""
json=$(ctl --json audit verify 2>/dev/null) || true
assert_eq "verify --json names the row" "false step_attempts $step row-changed" \
        "$(jq -r '"\(.ok) \(.table) \(.row) \(.problem)"' <<<"$json")"
sql "UPDATE step_attempts SET exit_status=3, outcome='failed' WHERE id=$step"
check "putting the row back makes verify pass again" ctl audit verify

# A forger who also rewrites the audit record consistently (and re-chains everything
# after it) is caught only by the exported head.
sql "DROP TRIGGER audit_no_update"
sql "UPDATE audit SET data = replace(data, '\"exit_status\":3', '\"exit_status\":0') WHERE tbl='step_attempts' AND row_id=$step AND op='update'"
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "an edited audit record fails verify" 1 "$rc"
assert_contains "and is reported as altered" "$out" "record-altered"
out=$(ctl audit verify --head 999999:$(printf '%064d' 0) 2>&1) && rc=0 || rc=$?
assert_eq "a head past the end (truncation) fails too" 1 "$rc"
out=$(ctl audit verify --head nonsense 2>&1) && rc=0 || rc=$?
assert_eq "a malformed --head is a usage error" 2 "$rc"

# Retention on a fresh journal: old runs go, only through the prune, journaled.
rm -f "$LAB/drover.db" "$LAB/drover.db-wal" "$LAB/drover.db-shm"
ctl run "$LAB/audited.yaml" >/dev/null 2>&1 || true
ctl run "$LAB/audited.yaml" >/dev/null 2>&1 || true
check "sqlite3 DELETE of a run is refused" sh -c "! sqlite3 '$LAB/drover.db' 'DELETE FROM runs WHERE id=1' 2>/dev/null"
out=$(ctl journal prune 2>&1) && rc=0 || rc=$?
assert_eq "prune without --before is a usage error" 2 "$rc"
cutoff=@$(( $(date +%s) + 1 ))
# prune refuses a cut-off in the future: let the clock pass it (not a wait for a condition).
sleep 1.1
out=$(ctl journal prune --before "$cutoff" --reason "integration test" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "prune without --yes exits 0" 0 "$rc"
assert_contains "and only says what would go" "$out" "Would remove 2 run(s), 6 step attempt(s)"
assert_eq "nothing removed by the dry run" 2 "$(sql "select count(*) from runs")"
out=$(ctl journal prune --before "$cutoff" --reason "integration test" --yes 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "prune --yes exits 0" 0 "$rc"
assert_contains "prune says what it removed and where it is journaled" "$out" "Journaled as audit record"
assert_eq "the runs are gone" 0 "$(sql "select count(*) from runs")"
assert_contains "the retention record holds actor, reason and counts" \
        "$(sql "select data from audit where tbl='journal' and op='retention'")" '"reason":"integration test","removed":{"runs":2,"step_attempts":6'
out=$(ctl audit verify 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "verify passes after the prune" 0 "$rc"
lab_done
