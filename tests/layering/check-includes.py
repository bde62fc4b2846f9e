#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-includes.py SRCDIR [INCLUDEDIR] — drover's layering, checked.

Every project header is included by folder ("monitor/detector.h"); a file may include
headers of its own module and of modules on a lower layer, never of a higher one, and
never a bare name that is not its own module's. The layers, lowest first:

  0  shared                      vocabulary and utilities: log, time, strbuf, outcome, monitoring…
  1  journal                     SQLite: the only writer of the record
  2  config                      drover.yaml, YAML with marks
  3  playbook                    playbooks, templates, conditions
  4  monitor drill cluster       probes and detection; drill files; etcd election and fencing
  5  incident engine             incidents and the policy; runs and the executor seam
  6  exec report                 ssh/http/local executors; reports
  7  daemon bus ctl worker       the programs

Modules on one layer may not include each other (so that each layer can be read
without the ones beside it), except where ALLOWED_SIDEWAYS says why.
Exit 1 and one `path:line: error:` per wrong-way include.

check-includes.py --self-test — runs the checker on small trees it writes to a
temporary directory (a wrong-way include, a same-layer include, a bare name, an
unknown module, a clean tree with the allowed bus↔daemon pair) and exits 1 unless
each bad tree is refused with the expected error and the clean one passes: the
meson test `layering-self-test` (suite unit), so that the check cannot silently
stop checking.
"""
import os
import re
import subprocess
import sys
import tempfile

LAYERS = {
    "shared": 0,
    "journal": 1,
    "config": 2,
    "playbook": 3,
    "monitor": 4, "drill": 4, "cluster": 4,
    "incident": 5, "engine": 5,
    "exec": 6, "report": 6,
    "daemon": 7, "bus": 7, "ctl": 7, "worker": 7,
}
# The programs share the daemon's surface: droverd is built from daemon/ and bus/ together.
ALLOWED_SIDEWAYS = {("bus", "daemon"), ("daemon", "bus")}
# include/drover/*.h: contracts between binaries, below everything.
CONTRACT = "drover"

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def check(src, prog="check-includes.py"):
    """Every wrong-way include under src (a list of error lines), and the number of files."""
    errors = []
    n_files = 0
    for module in sorted(os.listdir(src)):
        mdir = os.path.join(src, module)
        if not os.path.isdir(mdir):
            continue
        if module not in LAYERS:
            errors.append(f"{mdir}: error: module '{module}' has no layer in {prog}")
            continue
        for name in sorted(os.listdir(mdir)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(mdir, name)
            n_files += 1
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if "/" not in inc:
                        errors.append(f"{path}:{lineno}: error: \"{inc}\" is not included by folder "
                                      f"(write \"{module}/{inc}\" or the module that owns it)")
                        continue
                    target = inc.split("/", 1)[0]
                    if target == CONTRACT or target == module:
                        continue
                    if target not in LAYERS:
                        errors.append(f"{path}:{lineno}: error: \"{inc}\": no module '{target}'")
                        continue
                    if (module, target) in ALLOWED_SIDEWAYS:
                        continue
                    if LAYERS[target] > LAYERS[module]:
                        errors.append(f"{path}:{lineno}: error: {module} (layer {LAYERS[module]}) includes "
                                      f"\"{inc}\" of {target} (layer {LAYERS[target]}): a lower layer must "
                                      f"not depend on a higher one")
                    elif LAYERS[target] == LAYERS[module]:
                        errors.append(f"{path}:{lineno}: error: {module} includes \"{inc}\" of {target}, "
                                      f"on the same layer ({LAYERS[module]})")
    return errors, n_files


# (name, {path: text}, substring every expected error contains or None for a clean tree)
SELF_TESTS = [
    ("wrong way", {"config/a.h": '#include "monitor/detector.h"\n', "monitor/detector.h": ""},
     'config (layer 2) includes "monitor/detector.h" of monitor (layer 4)'),
    ("wrong way from a .c, indented directive", {"shared/a.c": '  #  include "journal/journal.h"\n',
                                                  "journal/journal.h": ""},
     'shared (layer 0) includes "journal/journal.h"'),
    ("same layer", {"monitor/a.c": '#include "cluster/role.h"\n', "cluster/role.h": ""},
     'monitor includes "cluster/role.h" of cluster, on the same layer (4)'),
    ("bare name", {"incident/a.c": '#include "policy.h"\n'}, 'is not included by folder'),
    ("unknown module", {"extras/a.c": ""}, "module 'extras' has no layer"),
    ("include of an unknown module", {"exec/a.c": '#include "nowhere/x.h"\n'}, "no module 'nowhere'"),
    ("clean", {"shared/log.h": "", "config/a.h": '#include "shared/log.h"\n#include <stdio.h>\n',
               "daemon/d.c": '#include "bus/bus.h"\n#include "exec/x.h"\n#include "drover/exit-status.h"\n',
               "bus/b.c": '#include "daemon/manager.h"\n', "exec/x.h": ""}, None),
]


def self_test():
    failures = 0
    for name, files, expect in SELF_TESTS:
        with tempfile.TemporaryDirectory(prefix="drover-layering-") as tmp:
            for rel, text in files.items():
                os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            # The checker as meson runs it: its exit status is what fails the build.
            run = subprocess.run([sys.executable, os.path.abspath(__file__), tmp], capture_output=True,
                                 text=True, check=False)
        errors = [line for line in run.stdout.splitlines() if ": error: " in line]
        if expect is None:
            ok = run.returncode == 0 and not errors
        else:
            ok = run.returncode == 1 and len(errors) == 1 and expect in errors[0]
        print(f"{'ok' if ok else 'FAIL'}: {name}: exit {run.returncode}, {len(errors)} error(s)" +
              "".join(f"\n    {e}" for e in errors) + (f"\n    stderr: {run.stderr.strip()}" if run.stderr else ""))
        failures += not ok
    print(f"layering self-test: {len(SELF_TESTS) - failures} of {len(SELF_TESTS)} passed")
    return 1 if failures else 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(f"usage: {sys.argv[0]} SRCDIR | --self-test", file=sys.stderr)
        return 2
    errors, n_files = check(sys.argv[1], sys.argv[0])
    for e in errors:
        print(e)
    print(f"layering: {n_files} files, {len(errors)} wrong-way include(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
