"""CPU time to write the demo's round report: the first render in a fresh process, as `auditbook report` meets it
(jinja2's import and the templates' compiling included), and each render after it.

    .venv/bin/python benchmarks/report.py             # 5 fresh processes, the median of each figure
    .venv/bin/python benchmarks/report.py --runs 9

The demo (two rounds, some fifty actions) is made once in --workdir (default output/bench-report). Its evidence
is gathered untimed in each process; only render() is timed. CPU time (time.process_time) rather than wall time:
the development machine is shared, and CPU time drifts less with its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from auditbook.demo import run_demo

_RUN = """
import json, sys, time
from datetime import datetime
from pathlib import Path
from auditbook.collection.collect import gather_folder
from auditbook.outputs.report import render
from auditbook.settings import example_calendar

out = Path(sys.argv[1])
e = gather_folder(out / "demo-returns", out=out / "demo-master.xlsx", ledger_path=out / ".demo-ledger.sqlite3",
                  rounds=example_calendar())
now = datetime(2026, 12, 7, 9, 30)
t = time.process_time()
render(e, generated_at=now)
first = time.process_time() - t
later = {}
for include_text in (False, True):
    t = time.process_time()
    for _ in range(20):
        render(e, include_text=include_text, generated_at=now)
    later[include_text] = (time.process_time() - t) / 20
print(json.dumps({"first": first, "later": later[False], "later_text": later[True]}))
"""


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="fresh processes to time (default 5)")
    ap.add_argument("--workdir", type=Path, default=Path("output/bench-report"))
    args = ap.parse_args()
    if not (args.workdir / "demo-master.xlsx").exists():
        run_demo(args.workdir)
    runs = [json.loads(subprocess.run([sys.executable, "-c", _RUN, str(args.workdir)], check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1])
            for _ in range(args.runs)]

    def ms(key: str) -> str:
        return f"{statistics.median(r[key] for r in runs) * 1000:.1f} ms"

    print(f"first render in a process: {ms('first')} CPU; each later one: {ms('later')}, "
          f"{ms('later_text')} with --include-text (medians of {args.runs} processes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
