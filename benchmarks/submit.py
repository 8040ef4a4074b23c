"""Whole-process time of ``litcl submit`` on a study spec, and where it goes.

    python benchmarks/submit.py [workflows/li3ticl6_demo.yaml] [--repeat 5]

Runs ``litcl submit --replace SPEC`` in fresh processes on an embedded home of its own (as a
user runs it) and reports the median and fastest wall time; then, in one more fresh process,
the phases of the same work (imports of the submit modules, spec validation, building the
workflow with its atomate2 Makers) and ``python -X importtime``'s largest import subtrees,
the third-party packages they pull in named. Target (issue 19): the demo spec in ≤ 2 s, if
reachable without giving up the Makers.
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

PHASES = """
import sys, time
start = time.perf_counter()
marks = []
def mark(name):
    marks.append((name, time.perf_counter()))
from litcl_flows.flows.spec import load_spec
mark("import litcl_flows.flows.spec")
from litcl_flows.flows.study import build_study_workflow
mark("import litcl_flows.flows.study (Makers: atomate2, jobflow, custodian)")
spec = load_spec(sys.argv[1])
mark("validate the spec (load_spec; deepmd's LearningRateExp on first use)")
workflow = build_study_workflow(spec)
mark(f"build the workflow ({len(workflow.fws)} jobs)")
last = start
for name, at in marks:
    print(f"{at - last:8.3f} s  {name}")
    last = at
"""

#: Import subtrees worth naming: the package and what it is there for.
SUBTREES = {
    "atomate2.ase.md": "atomate2 ASE MD Maker base (emmet, ase.md, sympy via pymatgen)",
    "atomate2.forcefields": "atomate2 force-field Makers",
    "atomate2.vasp": "atomate2 VASP Makers",
    "emmet.core.structure": "emmet schema base of atomate2's task documents",
    "deepmd.dpmodel": "deepmd's LearningRateExp (spec validation)",
    "ml_dtypes": "ml_dtypes (deepmd.dpmodel.common)",
    "deepmd.utils.argcheck": "deepmd's input.json checker (spec validation)",
    "jobflow": "jobflow (Flow, Job, Maker)",
    "fireworks": "FireWorks (launchpad)",
    "pymatgen.io.lammps.data": "pymatgen LammpsData (pandas)",
    "pymatgen.io.vasp.outputs": "pymatgen Vasprun/Outcar",
    "custodian": "custodian",
    "matplotlib": "matplotlib (imported by jobflow.utils.graph)",
}


def _submit(env: dict[str, str], spec: Path, extra: list[str] = ()) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *extra, "-m", "litcl_flows", "submit", "--replace", str(spec)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"litcl submit failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start, done.stderr


def _import_subtrees(stderr: str) -> list[tuple[float, str, str]]:
    """Cumulative seconds of the first (outermost) import of each package in SUBTREES."""
    found: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        name = name.strip()
        if name in SUBTREES and cumulative.strip().isdigit():
            # importtime prints children before parents: the last line of a name is its top.
            found[name] = int(cumulative) / 1e6
    return sorted(((s, n, SUBTREES[n]) for n, s in found.items()), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=REPO / "workflows" / "li3ticl6_demo.yaml")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    spec = Path(args.spec).resolve()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "LITCL_HOME": home}
        subprocess.run(
            [sys.executable, "-m", "litcl_flows", "init"], env=env, check=True, capture_output=True
        )
        times = [_submit(env, spec)[0] for _ in range(args.repeat)]
        print(
            f"litcl submit {spec.name}: median {statistics.median(times):.2f} s, "
            f"fastest {min(times):.2f} s (n={args.repeat}, whole process)"
        )
        print("\nphases, one fresh process (the rest is interpreter, CLI and launchpad):")
        subprocess.run([sys.executable, "-c", PHASES, str(spec)], env=env, check=True)
        _, stderr = _submit(env, spec, ["-X", "importtime"])
    print("\nlargest import subtrees (cumulative s, python -X importtime, nested ones overlap):")
    for seconds, name, what in _import_subtrees(stderr):
        if seconds >= 0.03:
            print(f"{seconds:8.3f} s  {name}: {what}")


if __name__ == "__main__":
    main()
