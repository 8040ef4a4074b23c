"""Wall time of each step of the demo study and of the whole demo (run on demand).

    python benchmarks/demo.py [--spec workflows/li3ticl6_demo.yaml]

Runs the spec on a fresh embedded home exactly as `litcl demo` does (submit, then every job
in one worker process, then the report) and prints the seconds spent per step and in total.
Target: the whole demo, concurrent learning included, within 20 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
#: Job-name prefix → step, in pipeline order.
STEPS = {
    "relax": "relax (reference engine)",
    "aimd": "reference MD",
    "deepmd dataset": "DeePMD dataset",
    "deepmd train": "DeePMD train/freeze/compress/test",
    "concurrent learning": "concurrent learning: iterations, decisions",
    "exploration": "concurrent learning: exploration (LAMMPS)",
    "label": "concurrent learning: labelling (reference engine)",
    "collect labels": "concurrent learning: labelling (reference engine)",
    "lammps": "ML-MD (LAMMPS)",
    "transport analysis": "transport analysis",
    "arrhenius": "Arrhenius fit",
    "hop barriers": "NEB",
    "ml neb": "NEB",
    "vasp neb": "NEB",
    "transport study": "study document",
}


def _step(job_name: str) -> str:
    for prefix, step in STEPS.items():
        if job_name.startswith(prefix):
            return step
    return "NEB"  # hop endpoints, images, barriers and the table


def _litcl(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", *args], env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"litcl {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(REPO / "workflows" / "li3ticl6_demo.yaml"))
    spec = parser.parse_args().spec
    with tempfile.TemporaryDirectory() as root:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LITCL_")}
        env["LITCL_HOME"] = str(Path(root) / "home")
        _, submit_s = _litcl(env, "submit", spec)
        run, run_s = _litcl(env, "run", "--json")
        study = yaml.safe_load(Path(spec).read_text())["name"]
        _, report_s = _litcl(env, "report", study, "-o", str(Path(root) / "report"))
    per_step: dict[str, float] = defaultdict(float)
    for event in json.loads(run.stdout):
        per_step[_step(event["name"])] += event["seconds"]
    print(f"{'step':<36} {'seconds':>8}")
    print(f"{'submit (validate, order cell, build)':<36} {submit_s:8.1f}")
    for step, seconds in per_step.items():
        print(f"{step:<36} {seconds:8.1f}")
    overhead = run_s - sum(per_step.values())
    print(f"{'worker start-up and bookkeeping':<36} {overhead:8.1f}")
    print(f"{'report':<36} {report_s:8.1f}")
    total = submit_s + run_s + report_s
    print(f"{'whole demo':<36} {total:8.1f}  ({total / 60:.1f} min; target ≤ 20 min)")


if __name__ == "__main__":
    main()
