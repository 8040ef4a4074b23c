"""Speed and memory of ``litcl analyze`` on a synthetic LAMMPS dump, and against references.

Usage: ``python benchmarks/analysis.py [--fraction 0.05] [--compare-fraction 0.01]``.
``--fraction 1`` is paper scale (6,000 Li among 20,000 atoms × 5,500 frames, ~4.5 GB of text).
Every command runs in its own process; peak memory is that process's max RSS.
Targets (issue 3): paper scale ≤ 2 min and ≤ 2 GB on 2 cores; ≥ 20× faster than pymatgen
``DiffusionAnalyzer`` and ≥ 3× faster than MDAnalysis ``EinsteinMSD`` on the same file.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from litcl_flows.io import write_lammps_dump

PAPER = {"atoms": 20_000, "mobile": 6_000, "frames": 5_500}
BOX_A = 60.0


def write_dump(path: Path, n_atoms: int, n_mobile: int, n_frames: int) -> None:
    """Wrapped ``id type x y z`` dump: Li (type 1) random-walk, Cl (type 2) vibrate."""
    rng = np.random.default_rng(0)
    start = rng.uniform(0, BOX_A, (n_atoms, 3))
    types = np.where(np.arange(n_atoms) < n_mobile, 1, 2)
    walk = np.zeros((n_mobile, 3))
    with open(path, "w") as handle:
        for frame in range(n_frames):
            walk += rng.normal(0, 0.05, walk.shape)
            positions = start + rng.normal(0, 0.1, start.shape)
            positions[:n_mobile] += walk
            write_lammps_dump(
                handle, 10 * frame, BOX_A * np.eye(3), np.mod(positions, BOX_A), types
            )


def measure(code: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (GB) of ``python -c code`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: report it only if it grew.
    return wall, max(peak_kb, before) / 2**20


def analyze_code(path: Path) -> str:
    return (
        "from litcl_flows.cli.analyze import analyze; analyze(["
        f"'{path}', '--mobile', 'Li', '--temperature', '600', '--timestep-fs', '1', "
        "'--type-map', 'Li,Cl', '--json'], standalone_mode=True)"
    )


DIFFUSION_ANALYZER = """
from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
from pymatgen.core import Lattice, Structure
from litcl_flows.io import iter_lammps_dump
structures = [Structure(Lattice(f.cell_A), f.symbols, f.positions_A, coords_are_cartesian=True)
              for f in iter_lammps_dump('{path}', type_map=['Li', 'Cl'])]
DiffusionAnalyzer.from_structures(structures, 'Li', 600, 10, 1, min_obs=1)
"""

EINSTEIN_MSD = """
import MDAnalysis as mda
from MDAnalysis.analysis.msd import EinsteinMSD
try:
    import tidynamics  # noqa: F401
    fft = True
except ImportError:
    fft = False
u = mda.Universe('{path}', format='LAMMPSDUMP', lammps_coordinate_convention='auto')
EinsteinMSD(u, select='type 1', fft=fft, unwrap=False).run()
print('fft', fft)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.05, help="of paper atoms and frames")
    parser.add_argument("--compare-fraction", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="litcl_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)

    def scaled(fraction: float) -> tuple[int, int, int]:
        # Atoms and frames both scale by √fraction so the work scales by `fraction`.
        root = fraction**0.5
        return (
            max(20, int(PAPER["atoms"] * root)),
            max(6, int(PAPER["mobile"] * root)),
            max(50, int(PAPER["frames"] * root)),
        )

    big = workdir / "big.dump"
    n_atoms, n_mobile, n_frames = scaled(args.fraction)
    write_dump(big, n_atoms, n_mobile, n_frames)
    size_gb = big.stat().st_size / 1e9
    wall, peak = measure(analyze_code(big))
    print(
        f"litcl analyze: {n_mobile} Li / {n_atoms} atoms × {n_frames} frames "
        f"({size_gb:.2f} GB): {wall:.1f} s, peak {peak:.2f} GB"
    )

    small = workdir / "small.dump"
    n_atoms, n_mobile, n_frames = scaled(args.compare_fraction)
    write_dump(small, n_atoms, n_mobile, n_frames)
    ours, _ = measure(analyze_code(small))
    da, _ = measure(DIFFUSION_ANALYZER.format(path=small))
    emsd, _ = measure(EINSTEIN_MSD.format(path=small))
    print(
        f"same file, {n_mobile} Li / {n_atoms} atoms × {n_frames} frames: litcl {ours:.1f} s, "
        f"DiffusionAnalyzer {da:.1f} s ({da / ours:.1f}×), EinsteinMSD {emsd:.1f} s "
        f"({emsd / ours:.1f}×)"
    )


if __name__ == "__main__":
    main()
