"""Whole-process wall times of litcl commands (run on demand; prints figures).

    python benchmarks/startup.py [--repeat 5]

Measures `litcl --help`, `litcl status` on an embedded home, and `litcl submit` of the smoke
spec (validation + workflow build + save), each in a fresh process, as a user runs them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _time(args: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "litcl_flows", *args], env=env, check=True, capture_output=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LITCL_HOME": home}
        subprocess.run(
            [sys.executable, "-m", "litcl_flows", "init"], env=env, check=True, capture_output=True
        )
        cases = {
            "litcl --help": ["--help"],
            "litcl status": ["status"],
            "litcl submit workflows/smoke.yaml": ["submit", str(REPO / "workflows" / "smoke.yaml")],
        }
        print(f"{'command':40s} {'median s':>9s} {'min s':>7s}  (n={repeat})")
        for label, args in cases.items():
            median, best = _time(args, env, repeat)
            print(f"{label:40s} {median:9.3f} {best:7.3f}")


if __name__ == "__main__":
    main()
