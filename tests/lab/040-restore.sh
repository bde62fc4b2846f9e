#!/usr/bin/env bash
# Backup restore: a base backup is taken, restored into another directory and port at the
# backup site, started, and verified against the primary (row count and checksum); the
# achieved RPO is journaled. With customers still making transfers during the restore.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
"$LABSH" workload start 20 >/dev/null
sleep 3
out=$(ctl run backup-restore -p reason="e2e: restore drill" -p target_dir=/srv/restore-e2e -p port=5433 2>&1) && rc=0 || rc=$?
echo "$out"
"$LABSH" workload stop >/dev/null
assert_eq "restore exits 0" 0 "$rc"
assert_eq "data verified against the source" ok "$(jsql "select outcome from step_attempts where step_name='data-matches'")"
restored=$(jsql "select stdout_text from step_attempts where step_name='restored-checksum'")
check "restored copy holds transactions ($restored)" test "${restored%%:*}" -gt 10
rpo=$(jsql "select trim(stdout_text, char(10)) from step_attempts where step_name='achieved-rpo'")
check "achieved RPO journaled as seconds ($rpo)" python3 -c "import sys; assert float(sys.argv[1]) >= 0" "$rpo"
# Independent check, not through drover: the restored cluster answers on its own port and
# every row it holds is in the primary, identical.
ip netns exec backup runuser -u postgres -- psql -X -A -t -q -h 10.213.0.12 -p 5433 -U postgres -d ebank \
        -c "select id, amount, vendor from transactions order by id" >"$LAB/restored.rows"
pg primary "select id, amount, vendor from transactions order by id" >"$LAB/primary.rows"
check "restored cluster answers on port 5433 with rows" test -s "$LAB/restored.rows"
assert_eq "every restored row is in the primary, identical" 0 \
        "$(LC_ALL=C comm -23 <(LC_ALL=C sort "$LAB/restored.rows") <(LC_ALL=C sort "$LAB/primary.rows") | wc -l)"
check "duty office told the RPO" grep -q "achieved RPO" /run/drover-lab/notify/1.json

# A restore into a directory that is already in use fails cleanly, and its rollback does not
# touch the existing copy.
out=$(ctl run backup-restore -p reason="e2e: restore onto a used dir" -p target_dir=/srv/restore-e2e -p port=5434 2>&1) && rc=0 || rc=$?
assert_eq "restore onto a non-empty directory fails: exit 1" 1 "$rc"
assert_contains "the journal says which step" "$(jsql "select error from runs where id=2")" "restore-and-start"
assert_contains "the journal says why" "$(jsql "select stderr_text from step_attempts where run_id=2 and step_name='restore-and-start'")" "in use by a cluster on port 5433"
check "the existing restored copy still answers on 5433" ip netns exec backup runuser -u postgres -- \
        psql -X -A -t -q -h 10.213.0.12 -p 5433 -U postgres -d ebank -c "select 1"
lab_done
