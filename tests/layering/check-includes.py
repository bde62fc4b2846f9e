#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-includes.py SRCDIR [INCLUDEDIR] — drover's layering, checked.

Every project header is included by folder ("monitor/detector.h"); a file may include
headers of its own module and of modules on a lower layer, never of a higher one, and
never a bare name that is not its own module's. The layers, lowest first:

  0  shared                      vocabulary and utilities: log, time, strbuf, outcome…
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
"""
import os
import re
import sys

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


def main():
    src = sys.argv[1]
    errors = []
    n_files = 0
    for module in sorted(os.listdir(src)):
        mdir = os.path.join(src, module)
        if not os.path.isdir(mdir):
            continue
        if module not in LAYERS:
            errors.append(f"{mdir}: error: module '{module}' has no layer in {sys.argv[0]}")
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
    for e in errors:
        print(e)
    print(f"layering: {n_files} files, {len(errors)} wrong-way include(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
