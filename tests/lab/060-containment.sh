#!/usr/bin/env bash
# Data-leak containment: the transmission to a partner is stopped at once (firewall on
# both sites and the key revoked at the partner), and proven stopped: a payment attempt
# fails and the partner receives nothing more.
source "$(dirname "$0")/lab-test-lib.sh"
lab_fresh
received() {
        python3 -c 'import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1], timeout=3))["received"])' \
                "http://10.213.0.2$1:8080/admin/received"
}
assert_contains "payments reach vendor A before" "$(transfer before-leak)" '"vendor": "vendor-a"'
before=$(received 1)
out=$(ctl run data-leak-containment -p reason="e2e: leak suspected at vendor-a" 2>&1) && rc=0 || rc=$?
echo "$out"
assert_eq "containment exits 0" 0 "$rc"
assert_contains "a payment attempt now fails" "$(transfer after-leak)" '"http_status": 502'
assert_eq "vendor A received nothing after containment" "$before" "$(received 1)"
for a in 11 12; do
        check "site 10.213.0.$a has the firewall rule" bash -c "ssh -q -i /run/drover-lab/drover/id_ed25519 -o UserKnownHostsFile=/run/drover-lab/drover/known_hosts root@10.213.0.$a 'nft list table inet drover-contain' | grep -q 10.213.0.21"
done
assert_eq "the revocation was journaled" ok "$(jsql "select outcome from step_attempts where step_name='revoke-key-at-a'")"
check "duty office notified" grep -q "Data transmission to vendor-a stopped" /run/drover-lab/notify/1.json
lab_done
