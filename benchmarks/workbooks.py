"""Benchmark making workbooks: `generate` of one workbook in-process, and `allocate` of N workbooks.

    .venv/bin/python benchmarks/workbooks.py [--n 200] [--repeat 30]

Targets on the 2-core development machine: one workbook in under 60 ms in-process (after the first,
which pays for imports and caches), and `auditbook allocate` of 200 cases in under 10 s from a fresh
process (start-up included), using every core.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from auditbook.spec import default_spec_path, load_spec
from auditbook.workbook.generate import generate_workbook, role_prefill

HEADER = ["Case reference", "Team", "Allocated worker", "Team manager", "Auditor", "Audit month (YYYY-MM)"]


def time_generate(repeat: int, folder: Path) -> tuple[float, float, float, float]:
    """First, median and best milliseconds (wall clock) to generate one prefilled workbook in this process, and
    the median CPU milliseconds (steadier than the clock on a shared machine)."""
    spec = load_spec(default_spec_path())
    times, cpu = [], []
    for i in range(repeat + 1):
        prefill = role_prefill(spec, case_ref=f"SYN-{i:04d}", auditor="Example Auditor", team="Team Alpha",
                               month="2026-11")
        t, c = time.perf_counter(), time.process_time()
        generate_workbook(spec, out=folder / f"g{i}.xlsx", prefill=prefill)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return times[0], statistics.median(times[1:]), min(times[1:]), statistics.median(cpu[1:])


def allocation_csv(path: Path, n: int) -> None:
    """An allocation list of n synthetic cases over three teams."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(1, n + 1):
            team = ("Alpha", "Beta", "Gamma")[i % 3]
            w.writerow([f"SYN-{i:05d}", f"Team {team}", f"Example Worker {i}", f"Example Manager {team}",
                        f"Example Auditor {i % 7}", f"2026-{(i % 12) + 1:02d}"])


def time_allocate(n: int, folder: Path) -> float:
    """Seconds for `auditbook allocate` of n cases, from a fresh process as a user runs it."""
    listing = folder / "allocation.csv"
    allocation_csv(listing, n)
    out = folder / "allocated"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditbook", "allocate", str(listing), "--out", str(out)], check=True,
                   capture_output=True)
    elapsed = time.perf_counter() - t
    made = len(list(out.glob("*.xlsx")))
    if made != n:
        raise SystemExit(f"allocate made {made} workbooks, not {n}")
    return elapsed


def main() -> None:
    """Run both benchmarks and print the figures."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=200, help="cases to allocate")
    p.add_argument("--repeat", type=int, default=30, help="workbooks to generate in-process")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditbook-bench-") as tmp:
        folder = Path(tmp)
        first, median, best, cpu = time_generate(args.repeat, folder)
        print(f"generate, one workbook in-process: first {first:.0f} ms, then median {median:.1f} ms "
              f"(best {best:.1f} ms, median CPU {cpu:.1f} ms) over {args.repeat}")
        seconds = time_allocate(args.n, folder)
        print(f"allocate {args.n} workbooks from a fresh process on {os.cpu_count()} cores: {seconds:.1f} s "
              f"({seconds / args.n * 1000:.0f} ms a workbook)")


if __name__ == "__main__":
    main()
