#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/demo-mini.sh — a light demo without network namespaces or databases: install what is missing,
# build, start a throwaway lab on loopback (a real OpenSSH sshd with its own host keys
# and an ed25519 user key, a real HTTP server standing for the gateway and the duty
# office), validate and dry-run the demo switchover, run it for real with live
# progress, and show what the journal recorded. The lab stops when the demo ends;
# the journal stays in /tmp/drover-demo/ for you to explore with droverctl.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# Under meson test (tests/integration/120-demo.sh) the build already exists.
if [ -z "${DROVER_BUILD_ROOT:-}" ]; then
        tools/install-deps.sh
        [ -f build/build.ninja ] || meson setup build >/dev/null
        ninja -C build src/ctl/droverctl >/dev/null
        export DROVER_BUILD_ROOT="$here/build"
fi
export DROVER_SOURCE_ROOT="$here"
source tests/integration/lib.sh
lab_start_sshd 127.0.0.1
lab_start_http
lab_config

demo=/tmp/drover-demo
rm -rf "$demo"
mkdir -p "$demo"
# The demo inventory: two "sites" whose servers are the same local sshd.
sed -e "s|journal: .*|journal: $demo/drover.db|" \
    -e "s|  h1: |  primary-db: |; s|  h2: |  backup-db: |; s|web: \[h1, h2\]|web: [primary-db, backup-db]|" \
    -e "s|  api:|  gateway:|" "$LAB/drover.yaml" >"$demo/drover.yaml"
python3 - "$demo/drover.yaml" "$HTTP_PORT" <<'PY'
import sys
p, port = sys.argv[1:]
s = open(p).read().replace("endpoints:\n", "endpoints:\n  duty-office: {url: http://127.0.0.1:%s}\n" % port)
open(p, "w").write(s)
PY
cp "$LAB/api-token" "$demo/api-token"
sed -i "s|$LAB/api-token|$demo/api-token|" "$demo/drover.yaml"
pb=playbooks/examples/demo-switchover.yaml
ctl() { "$DROVERCTL" --config "$demo/drover.yaml" "$@"; }

echo "== droverctl validate"
ctl validate "$pb"
echo
echo "== droverctl run --dry-run (contacts nothing)"
ctl run --dry-run "$pb" -p reason="demo: primary site lost"
echo
echo "== droverctl run"
ctl run "$pb" -p reason="demo: primary site lost" && rc=0 || rc=$?
echo
echo "== droverctl runs"
ctl runs
echo
echo "The journal is $demo/drover.db. Explore it with:"
echo "  $DROVERCTL --db $demo/drover.db show 1"
echo "  $DROVERCTL --db $demo/drover.db runs --json"
exit $rc
