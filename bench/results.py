"""Keep bench/RESULTS.md as named sections, each replaced by the run that produced it."""

from __future__ import annotations

import os
import re

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
HEADER = ("# Benchmark results\n\nEach section is rewritten by the command it names; "
          "numbers are from this project's 2-core machine.\n")


def write_section(name: str, text: str) -> None:
    current = open(PATH, encoding="utf-8").read() if os.path.exists(PATH) else HEADER
    if not current.startswith("# Benchmark results"):
        current = HEADER
    block = f"<!-- {name} -->\n{text.strip()}\n<!-- /{name} -->"
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    if pattern.search(current):
        current = pattern.sub(lambda _m: block, current)
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    with open(PATH, "w", encoding="utf-8") as fh:
        fh.write(current)
