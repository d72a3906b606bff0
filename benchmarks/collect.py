"""Benchmark `auditbook collect` on N synthetic, valid, varied returns, next to a naive pandas loop.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/collect.py --n 1000

Targets on the 2-core development machine, quiet: 1,000 returns cold in at most 5 s and at least 12 times faster
than the naive loop over the same files in the same run; one new return added to 1,000 collected in at most 0.7 s;
a second run with no changes in at most 1 s; peak memory under 400 MB. Each collect runs as a user meets it: a
fresh process, timed from outside (start-up and imports included; the collect call's own time is printed beside
it). The machine is shared, so each figure comes with its CPU time (which drifts far less with the load than wall
time) and the load average is printed.
The returns are made once and kept in --workdir (default output/bench-returns) for later runs; the spec they were made
from is noted beside it (bench-returns.stamp.json), and they are made again when the default spec has changed since.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from auditbook.spec import default_spec_path, load_spec
from auditbook.spec.layout import build_layout
from auditbook.workbook.synthetic import synthetic_answers
from auditbook.workbook.writer import build_workbook

#: One collect, in a process of its own; it prints what it did and its own CPU time (imports included).
_RUN = """
import json, resource, sys, time
from pathlib import Path
import auditbook.collection.collect as orchestration
from auditbook.collection.collect import collect

# Time the master's writing on its own (write_master as collect calls it).
write_seconds = []
_write = orchestration.write_master

def timed_write(*args, **kwargs):
    t = time.perf_counter()
    try:
        return _write(*args, **kwargs)
    finally:
        write_seconds.append(time.perf_counter() - t)

orchestration.write_master = timed_write
t = time.perf_counter()
r = collect(Path(sys.argv[1]), out=Path(sys.argv[2]), ledger_path=Path(sys.argv[3]))
inside = time.perf_counter() - t
me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"summary": r.summary_line(), "read": r.read, "rss_mb": me.ru_maxrss / 1024, "inside": inside,
                  "worker_rss_mb": workers.ru_maxrss / 1024, "cpu": me.ru_utime + me.ru_stime,
                  "worker_cpu": workers.ru_utime + workers.ru_stime,
                  "write_seconds": sum(write_seconds) if write_seconds else None,
                  "master_mb": Path(sys.argv[2]).stat().st_size / 1e6}))
"""
NEW = 100001


def _write(run: dict[str, object]) -> str:
    seconds = run.get("write_seconds")
    return "master not written" if seconds is None else (
        f"master written in {float(str(seconds)):.2f} s, {float(str(run['master_mb'])):.1f} MB")


def _make_one(args: tuple[int, str]) -> None:
    i, folder = args
    spec = load_spec(default_spec_path())
    layout = build_layout(spec)
    kinds = sorted(spec.examples)
    answers = synthetic_answers(layout, seed=i, scenario=kinds[i % len(kinds)], index=i, late=i % 9 == 0,
                                month=f"2026-{(i % 12) + 1:02d}")
    team = f"team-{i % 3}"
    build_workbook(spec, out=Path(folder) / team / f"SYN-{i:05d}.xlsx", prefill=answers)


def stamp_path(folder: Path) -> Path:
    """Where the spec the returns in `folder` were made from is noted: beside the folder, not in it (a file in it
    would be collected, as a skipped file, with the returns)."""
    return folder.with_name(f"{folder.name}.stamp.json")


def make_returns(folder: Path, n: int) -> None:
    """Make the synthetic returns that are not there yet; all of them again when those there were made from another
    version of the default spec (or it is not known which), as then every one would be an unknown-spec return."""
    sha = load_spec(default_spec_path()).sha256
    stamp = stamp_path(folder)
    try:
        made = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        made = None
    old = sorted(folder.glob("*/SYN-*.xlsx"))
    if old and not (isinstance(made, dict) and made.get("spec_sha256") == sha):
        print(f"the {len(old)} returns in {folder} were not made from this version of the default spec "
              f"({sha[:12]}): making them again", flush=True)
        for path in old:
            path.unlink()
    missing = [i for i in range(1, n + 1) if not (folder / f"team-{i % 3}" / f"SYN-{i:05d}.xlsx").exists()]
    if missing:
        # Noted first, so that returns made by a run cut short are known to be of this spec.
        stamp.write_text(json.dumps({"spec_sha256": sha}), encoding="utf-8")
        print(f"making {len(missing)} synthetic returns in {folder} ...", flush=True)
        t = time.perf_counter()
        with ProcessPoolExecutor() as pool:
            list(pool.map(_make_one, [(i, str(folder)) for i in missing], chunksize=16))
        print(f"  made in {time.perf_counter() - t:.1f} s", flush=True)
    now = {"spec_sha256": sha, "returns": sum(1 for _ in folder.glob("*/SYN-*.xlsx"))}
    if made != now:
        stamp.write_text(json.dumps(now), encoding="utf-8")


def run_collect(folder: Path, master: Path, ledger: Path) -> dict[str, object]:
    """One collect in a fresh process, timed from outside (start-up and imports included), with its CPU time."""
    t = time.perf_counter()
    # As an installed auditbook runs: its modules compiled once and kept (a shell that says not to write bytecode
    # would have every run compile them again).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", _RUN, str(folder), str(master), str(ledger)], check=True,
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = seconds
    return result


def _inside(run: dict[str, object]) -> str:
    """The collect call's own time, after start-up and imports (what this benchmark printed before)."""
    return f"{float(str(run['inside'])):.2f} s inside the process" if "inside" in run else "inside not known"


def _cpu(run: dict[str, object]) -> float:
    return float(str(run["cpu"]))


def one_new(folder: Path, master: Path, ledger: Path, repeat: int) -> list[dict[str, object]]:
    """Add one new return to the collected folder and collect, `repeat` times from the same collected state."""
    spare = master.parent / "spare"
    spare.mkdir(exist_ok=True)
    _make_one((NEW, str(spare)))
    made = next(spare.rglob(f"SYN-{NEW}.xlsx"))
    kept = {p: p.read_bytes() for p in (master, ledger)}
    runs = []
    target = folder / made.parent.name / made.name
    try:
        for _ in range(repeat):
            shutil.copy2(made, target)
            runs.append(run_collect(folder, master, ledger))
            target.unlink()
            for p, data in kept.items():
                p.write_bytes(data)
    finally:
        target.unlink(missing_ok=True)
    return runs


def naive(folder: Path, sample: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of pandas.read_excel(sheet_name=None) over `sample` files, and how many it read."""
    import pandas as pd

    files = sorted(folder.rglob("*.xlsx"))[:sample]
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        # openpyxl warns, once a file, that it cannot keep the workbook's print areas: noise around the figures.
        warnings.simplefilter("ignore", UserWarning)
        for f in files:
            pd.read_excel(f, sheet_name=None)
    return time.perf_counter() - t, time.process_time() - c, len(files)


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="how many returns (default 1000)")
    ap.add_argument("--workdir", type=Path, default=Path("output/bench-returns"))
    ap.add_argument("--naive-sample", type=int, default=100,
                    help="files the naive loop reads; its time is scaled to N (default 100; 0 skips it)")
    ap.add_argument("--repeat", type=int, default=3, help="times the one-new-return collect is run (default 3)")
    args = ap.parse_args()
    folder = args.workdir
    folder.mkdir(parents=True, exist_ok=True)
    make_returns(folder, args.n)
    count = sum(1 for _ in folder.rglob("*.xlsx"))
    out = folder.parent / "bench-master"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    master, ledger = out / "master.xlsx", out / "ledger.sqlite3"
    # The bench extra installs ISA-L (the fast extra), which deflates the master's big tabs: say which one wrote it.
    deflate = "ISA-L (the fast extra)" if importlib.util.find_spec("isal") else "zlib (no fast extra)"
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; returns: {count}; deflate: {deflate}; "
          f"load average {_load()}")
    cold = run_collect(folder, master, ledger)
    cold_s = float(str(cold["seconds"]))
    print(f"cold collect:  {cold_s:.2f} s (target 5 s; {_inside(cold)})  ({cold['summary']}); {_write(cold)}; "
          f"peak RSS main {cold['rss_mb']:.0f} MB, largest worker {cold['worker_rss_mb']:.0f} MB")
    print(f"  CPU: main {_cpu(cold):.2f} s, workers {float(str(cold['worker_cpu'])):.1f} s (validating, in all)")
    warm = run_collect(folder, master, ledger)
    print(f"warm collect:  {float(str(warm['seconds'])):.2f} s (target 1 s; {_inside(warm)}), CPU {_cpu(warm):.2f} s  "
          f"({warm['summary']}, files read: {warm['read']}; {_write(warm)})")
    if args.repeat:
        runs = one_new(folder, master, ledger, args.repeat)
        wall = [float(str(r["seconds"])) for r in runs]
        best = min(runs, key=lambda r: float(str(r["seconds"])))
        print(f"one new file:  {statistics.median(wall):.2f} s (target 0.7 s; median of {len(runs)}, best "
              f"{min(wall):.2f} s; {_inside(best)}), CPU {statistics.median(_cpu(r) for r in runs):.2f} s  "
              f"({runs[-1]['summary']}, files read: {runs[-1]['read']}; {_write(runs[-1])})")
    if args.naive_sample:
        try:
            seconds, cpu, read = naive(folder, args.naive_sample)
        except ImportError:
            print("naive loop:    skipped (pip install -e '.[bench]' for pandas)")
            return 0
        scaled = seconds * count / max(read, 1)
        print(f"naive pandas:  {seconds:.2f} s (CPU {cpu:.2f} s) for {read} files -> {scaled:.1f} s for {count} "
              f"(collect is {scaled / cold_s:.1f}x faster; target 12x)")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"benchmark process peak RSS: {own:.0f} MB; load average {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
