#!/usr/bin/env python3
"""Turn a text file into a C header holding it as one string: embed-config.py IN OUT NAME."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, encoding="utf-8").read()
lines = ['/* generated from %s by tools/embed-config.py; do not edit */' % src.split("/")[-1],
         'static const char %s[] =' % name]
for line in data.splitlines(True):
    esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    lines.append('\t"%s"' % esc)
lines[-1] += ';'
open(out, "w", encoding="utf-8").write("\n".join(lines) + "\n")
