"""CPU time to validate one return, in-process, as a collect worker spends it.

    .venv/bin/python benchmarks/validate.py            # 200 distinct returns, once each
    .venv/bin/python benchmarks/validate.py --profile  # and where the time goes (cProfile, top functions)
    .venv/bin/python benchmarks/validate.py --instructions --n 20   # machine instructions (valgrind)

CPU time (time.process_time) rather than wall time: the development machine is shared, and CPU time
drifts less with its load (though a busy machine still adds some: caches and cores are shared). Each round
also prints the CPU time of only unzipping every part of the same returns, as a yardstick that moves with
the machine as validating does: their ratio compares runs made at different loads.
--instructions counts the machine instructions instead (valgrind's callgrind, on one round of N against
none): slow, but the same count whatever else the machine is doing.

The returns are distinct, as in a real round (no two share their answers), and each is validated once
(each round takes its own N), after one return outside the set has warmed the process up (spec registry,
imports), as a collect worker is warmed up by its first file.
Returns are taken from --workdir (default output/bench-returns, where benchmarks/collect.py keeps them)
and made there when missing, or made again when the default spec has changed since they were made.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from auditbook.returns.provenance import SpecRegistry
from auditbook.returns.validate import validate_file

sys.path.insert(0, str(Path(__file__).parent))
from collect import make_returns  # the same synthetic returns as the collect benchmark


def _run(files: list[Path], registry: SpecRegistry) -> list[float]:
    """CPU seconds of each validation, failing loudly if any return is not valid (then the figure means nothing)."""
    times = []
    for f in files:
        t = time.process_time()
        report = validate_file(f, registry=registry)
        times.append(time.process_time() - t)
        if report.audit is None or any(p.severity == "error" for p in report.problems):
            raise SystemExit(f"{f} did not validate: {[str(p) for p in report.problems][:3]}")
    return times


def _unzip(files: list[Path]) -> float:
    """CPU seconds per file of only inflating every part (what any reader of the file must do at least)."""
    t = time.process_time()
    for f in files:
        with zipfile.ZipFile(f) as zf:
            for info in zf.infolist():
                zf.read(info)
    return (time.process_time() - t) / max(len(files), 1)


def _instructions(args: argparse.Namespace) -> int:
    """Instructions per return: this script under callgrind with N returns, less the same with none."""
    counts = []
    for n in (0, args.n):
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
               "--n", str(n), "--rounds", "1", "--workdir", str(args.workdir)]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        counts.append(int(re.findall(r"Collected\s*:\s*(\d+)", done.stderr)[-1]))
    print(f"validate: {(counts[1] - counts[0]) / args.n / 1e6:.1f} million instructions per return "
          f"(callgrind, {args.n} returns)")
    return 0


def main() -> int:
    """Validate the returns and print the CPU milliseconds per return."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="how many distinct returns to validate (default 200)")
    ap.add_argument("--rounds", type=int, default=3, help="repeat the measure on as many further sets of N "
                    "distinct returns, and report each round's mean (default 3)")
    ap.add_argument("--workdir", type=Path, default=Path("output/bench-returns"))
    ap.add_argument("--profile", action="store_true", help="also print the top functions by cumulative time")
    ap.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead")
    args = ap.parse_args()
    if args.instructions:
        return _instructions(args)
    total = args.n * (args.rounds + args.profile) + 1
    make_returns(args.workdir, total)
    files = sorted(args.workdir.rglob("SYN-*.xlsx"), key=lambda p: p.name)[:total]
    registry = SpecRegistry.load()
    validate_file(files[0], registry=registry)
    means = []
    for k in range(args.rounds):
        # Each round its own returns: a file is never validated twice, as in a real round.
        times = _run(files[1 + k * args.n : 1 + (k + 1) * args.n], registry)
        if not times:
            continue
        means.append(statistics.fmean(times) * 1000)
        unzip = _unzip(files[1 + k * args.n : 1 + (k + 1) * args.n]) * 1000
        print(f"validate: {means[-1]:.2f} ms CPU per return (mean of {len(times)}; median "
              f"{statistics.median(times) * 1000:.2f} ms); unzipping every part {unzip:.2f} ms "
              f"({means[-1] / unzip:.1f}x)", flush=True)
    if means:
        print(f"best round: {min(means):.2f} ms CPU per return")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(_run, files[1 + args.rounds * args.n :], registry)  # returns not yet seen
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
