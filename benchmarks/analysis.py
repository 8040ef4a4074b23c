"""Speed and memory of ``litcl analyze`` against MDAnalysis and pymatgen on the same dumps.

Usage::

    python benchmarks/analysis.py [--fraction 1] [--shapes small,mid,paper-like] [--paper]

Three file shapes (issue 19), each a LAMMPS dump of unwrapped ``id type xu yu zu`` lines with
30 % Li (type 1) random-walking among vibrating Cl (type 2):

- ``small``: 300 atoms × 4,000 frames (AIMD-sized cells, frequent Li-only dumps; ~40 MB),
- ``mid``: 7,500 atoms × 2,000 frames (~0.5 GB),
- ``paper-like``: 20,000 atoms × 500 frames (the paper's cell, fewer frames; ~0.35 GB).

``--fraction f`` scales atoms and frames by √f each (the bytes by f) for a quick run. On each
file, in one run, every tool runs as its own process, as a user runs it, and the table gives
wall seconds, CPU seconds (user + system: on a shared machine the fairer figure), the
process's peak RSS and the ratios. What each computes:

- ``litcl analyze --json``: self, total and distinct MSD by FFT over all origins, D_self,
  D_total, Haven ratio and σ with block-jackknife error bars (drift-corrected, unwrapping
  checked);
- MDAnalysis ``EinsteinMSD(fft=True)`` (``tidynamics`` installed): the self MSD of Li, no fit,
  no error bars;
- pymatgen ``DiffusionAnalyzer.from_structures`` on ``Structure`` objects built from the same
  frames (read by litcl's reader, the fastest available; each ``Structure`` built when
  pymatgen asks for it, as holding them all would need ~1.3 kB per site): self and charge
  MSD, D and σ with its own error estimate. Its process may use at most
  ``--pymatgen-memory-GB`` (default 8) of address space, so that it fails alone instead of
  pushing a shared machine out of memory.

Targets (issue 19): ``litcl analyze`` ≥ 3× MDAnalysis and ≥ 20× pymatgen on every shape.
``--paper`` also runs ``litcl analyze`` alone at paper scale (6,000 Li among 20,000 atoms ×
5,500 frames, ~4.1 GB, wrapped ``x y z`` as before; target ≤ 120 s and ≤ 2 GB).
``--before TREE`` adds ``litcl analyze`` run from another source tree of the package (e.g.
``git archive HEAD~1 litcl_flows | tar -x -C /tmp/before``), for before/after figures.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litcl_flows.io import write_lammps_dump

SHAPES = {
    "small": (300, 4_000),
    "mid": (7_500, 2_000),
    "paper-like": (20_000, 500),
}
PAPER = (20_000, 5_500)
MOBILE_FRACTION = 0.3
BOX_A = 60.0


def write_dump(
    path: Path, n_atoms: int, n_mobile: int, n_frames: int, unwrapped: bool = False
) -> None:
    """Li (type 1) random-walk, Cl (type 2) vibrate; wrapped ``id type x y z`` lines, or
    unwrapped ``id type xu yu zu`` lines when ``unwrapped``. The box is a 60 Å cube (atoms
    overlap; only the bytes and the statistics matter here)."""
    rng = np.random.default_rng(0)
    start = rng.uniform(0, BOX_A, (n_atoms, 3))
    types = np.where(np.arange(n_atoms) < n_mobile, 1, 2)
    walk = np.zeros((n_mobile, 3))
    cell = BOX_A * np.eye(3)
    with open(path, "w") as handle:
        for frame in range(n_frames):
            walk += rng.normal(0, 0.05, walk.shape)
            positions = start + rng.normal(0, 0.1, start.shape)
            positions[:n_mobile] += walk
            if not unwrapped:
                write_lammps_dump(handle, 10 * frame, cell, np.mod(positions, BOX_A), types)
                continue
            text = io.StringIO()
            write_lammps_dump(text, 10 * frame, cell, positions, types)
            handle.write(text.getvalue().replace("ATOMS id type x y z", "ATOMS id type xu yu zu"))


@dataclass(frozen=True)
class Run:
    wall_s: float
    cpu_s: float
    peak_MB: float


def measure(
    argv: list[str], repeat: int = 1, tree: Path | None = None, memory_GB: float | None = None
) -> Run:
    """Fastest of ``repeat`` runs of ``argv`` as a fresh process: wall and CPU seconds and
    that process's own peak RSS (``wait4``), not the maximum over all children. ``tree``: a
    source tree whose ``litcl_flows`` the process imports instead of the installed one;
    ``memory_GB``: a cap on the process's address space."""

    def cap() -> None:
        limit = int(memory_GB * 2**30)  # type: ignore[operator]
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        # Run outside the repository: `python -c` would import the package from the cwd.
        process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tempfile.gettempdir(),
            preexec_fn=cap if memory_GB else None,
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        stderr = process.stderr.read().decode() if process.stderr else ""
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} … failed:\n{stderr[-2000:]}")
        runs.append(Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))
    return min(runs, key=lambda run: run.wall_s)


def litcl_argv(path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "litcl_flows",
        "analyze",
        str(path),
        "--mobile",
        "Li",
        "--temperature",
        "600",
        "--time-step-fs",
        "1",
        "--type-map",
        "Li,Cl",
        "--json",
    ]


EINSTEIN_MSD = """
import sys
import warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
import tidynamics  # noqa: F401  (EinsteinMSD's FFT path needs it)
from MDAnalysis.analysis.msd import EinsteinMSD
u = mda.Universe(sys.argv[1], format="LAMMPSDUMP", lammps_coordinate_convention="auto")
EinsteinMSD(u, select="type 1", fft=True, unwrap=False).run()
"""

DIFFUSION_ANALYZER = """
import sys
import warnings
from collections.abc import Sequence
warnings.simplefilter("ignore")
from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
from pymatgen.core import Lattice, Structure
from litcl_flows.io import iter_lammps_dump

class Structures(Sequence):
    # Built when asked for: all at once they would take ~1.3 kB per site (20 GB for mid).
    def __init__(self, frames):
        self.frames = frames
    def __len__(self):
        return len(self.frames)
    def __getitem__(self, i):
        f = self.frames[i]
        return Structure(Lattice(f.cell_A), f.symbols, f.positions_A, coords_are_cartesian=True)

frames = list(iter_lammps_dump(sys.argv[1], type_map=["Li", "Cl"]))
DiffusionAnalyzer.from_structures(Structures(frames), "Li", 600, 1, 10, min_obs=1)
"""


def scaled(shape: tuple[int, int], fraction: float) -> tuple[int, int, int]:
    """Atoms, mobile atoms and frames of a shape scaled so that its bytes scale by fraction."""
    root = fraction**0.5
    n_atoms = max(20, round(shape[0] * root))
    return n_atoms, round(MOBILE_FRACTION * n_atoms), max(300, round(shape[1] * root))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0, help="of each shape's bytes")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated; '': none")
    parser.add_argument("--no-pymatgen", action="store_true", help="skip DiffusionAnalyzer")
    parser.add_argument("--pymatgen-memory-GB", type=float, default=8.0)
    parser.add_argument("--paper", action="store_true", help="also litcl at paper scale")
    parser.add_argument("--repeat", type=int, default=1, help="fastest of n runs per tool")
    parser.add_argument("--before", type=Path, default=None, help="litcl source tree to compare")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="litcl_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    python = sys.executable
    rows = []
    for name in filter(None, args.shapes.split(",")):
        n_atoms, n_mobile, n_frames = scaled(SHAPES[name], args.fraction)
        path = workdir / f"{name}.dump"
        write_dump(path, n_atoms, n_mobile, n_frames, unwrapped=True)
        size_MB = path.stat().st_size / 1e6
        ours = measure(litcl_argv(path), args.repeat)
        before = args.before and measure(litcl_argv(path), args.repeat, args.before)
        mda = measure([python, "-c", EINSTEIN_MSD, str(path)], args.repeat)
        pmg = None
        if not args.no_pymatgen:
            pmg_argv = [python, "-c", DIFFUSION_ANALYZER, str(path)]
            pmg = measure(pmg_argv, memory_GB=args.pymatgen_memory_GB)
        label = f"{name}: {n_atoms:,} atoms × {n_frames:,} frames"
        rows.append((label, size_MB, ours, mda, pmg, before))
        path.unlink()
        _print_row(*rows[-1])
    print()
    print(
        "| shape | file | litcl analyze s (CPU s, peak MB) | before | MDAnalysis EinsteinMSD "
        "s (CPU s, peak MB) | pymatgen DiffusionAnalyzer s (CPU s, peak MB) | × MDAnalysis "
        "| × pymatgen |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, size_MB, ours, mda, pmg, before in rows:
        cells = [_cell(ours), _cell(before) if before else "—", _cell(mda)]
        cells.append(_cell(pmg) if pmg else "—")
        ratios = [
            f"{mda.wall_s / ours.wall_s:.1f}×",
            f"{pmg.wall_s / ours.wall_s:.1f}×" if pmg else "—",
        ]
        print(f"| {label} | {size_MB:.0f} MB | " + " | ".join(cells + ratios) + " |")
    if args.paper:
        n_atoms, n_frames = PAPER
        path = workdir / "paper.dump"
        write_dump(path, n_atoms, round(MOBILE_FRACTION * n_atoms), n_frames)
        run = measure(litcl_argv(path))
        print(
            f"\npaper scale, {n_atoms:,} atoms × {n_frames:,} frames, wrapped "
            f"({path.stat().st_size / 1e9:.2f} GB): litcl analyze {_cell(run)}"
        )
        if args.before:
            print(f"  before: {_cell(measure(litcl_argv(path), tree=args.before))}")
        path.unlink()


def _cell(run: Run) -> str:
    return f"{run.wall_s:.2f} ({run.cpu_s:.2f}, {run.peak_MB:.0f})"


def _print_row(
    label: str, size_MB: float, ours: Run, mda: Run, pmg: Run | None, before: Run | None
) -> None:
    text = f"{label} ({size_MB:.0f} MB): litcl {_cell(ours)}"
    if before:
        text += f" (before {_cell(before)})"
    text += f", EinsteinMSD {_cell(mda)}"
    text += f" = {mda.wall_s / ours.wall_s:.1f}×"
    if pmg is not None:
        text += f", DiffusionAnalyzer {_cell(pmg)} = {pmg.wall_s / ours.wall_s:.1f}×"
    print(text, flush=True)


if __name__ == "__main__":
    main()
