"""DeePMD-kit speed on this machine: training steps/s (demo and study presets) and LAMMPS ns/day
with the frozen and the compressed model on the same cell.

Run: ``python benchmarks/deepmd_training.py [--threads N] [--steps-demo N] [--steps-study N]``.
Data: the Li7P3S11 VASP MD frames in ../shared/data/third_party (84 atoms, 10 frames).
Prints one table; nothing is stored.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and this file would shadow the
# deepmd package (dpdata imports deepmd.driver): take the folder off the path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

from litcl_flows.engines.deepmd.dataset import trajectories_to_deepmd  # noqa: E402
from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput  # noqa: E402
from litcl_flows.engines.deepmd.jobs import thread_env  # noqa: E402
from litcl_flows.engines.deepmd.run import run_deepmd_training  # noqa: E402

OUTCAR = (
    Path(__file__).resolve().parents[2]
    / "shared/data/third_party/vasp_aimd/Li7P3S11_npt_langevin_custodian/OUTCAR"
)
BIN = Path(sys.executable).parent


def train(root: Path, name: str, settings: DeepmdTrainingInput, report, threads: int):
    """Train, freeze, compress, test one model; return its TrainingRun."""
    run_dir = root / name
    shutil.copytree(root / "data", run_dir / "data")
    return run_deepmd_training(
        run_dir,
        settings,
        report.type_map,
        [f"data/{s}" for s in report.train_systems],
        [f"data/{s}" for s in report.valid_systems],
        dp_cmd=str(BIN / "dp"),
        threads=threads,
        polling_time_step_s=1,
    )


def lammps_ns_per_day(model: Path, system, replicate: int, steps: int, threads: int) -> float:
    """ns/day of NVT MD (1 fs) with ``pair_style deepmd`` on the replicated first frame."""
    from ase import Atoms
    from ase.io import write

    run_dir = model.parent / f"lmp_{model.stem}"
    run_dir.mkdir(exist_ok=True)
    atoms = Atoms(
        [system["atom_names"][t] for t in system["atom_types"]],
        positions=system["coords"][0],
        cell=system["cells"][0],
        pbc=True,
    )
    write(
        run_dir / "conf.lmp",
        atoms,
        format="lammps-data",
        specorder=system["atom_names"],
        masses=True,
    )
    (run_dir / "in.lammps").write_text(
        f"units metal\natom_style atomic\nboundary p p p\nread_data conf.lmp\n"
        f"replicate {replicate} {replicate} {replicate}\n"
        f"pair_style deepmd {model}\npair_coeff * * {' '.join(system['atom_names'])}\n"
        "velocity all create 600 1\nfix 1 all nvt temp 600 600 0.1\ntimestep 0.001\n"
        f"thermo 50\nrun {steps}\n"
    )
    out = subprocess.run(
        [str(BIN / "lmp"), "-in", "in.lammps"],
        cwd=run_dir,
        capture_output=True,
        text=True,
        env=thread_env(threads),
        check=True,
    ).stdout
    return float(re.findall(r"Performance: ([0-9.]+) ns/day", out)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps-demo", type=int, default=300)
    parser.add_argument("--steps-study", type=int, default=60)
    parser.add_argument("--md-steps", type=int, default=200)
    parser.add_argument("--replicate", type=int, default=2)
    args = parser.parse_args()
    import dpdata

    system = dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        report = trajectories_to_deepmd([system], root / "data", valid_fraction=0.2)
        presets = {
            "demo": DeepmdTrainingInput.demo(numb_steps=args.steps_demo, disp_freq=20),
            "study": DeepmdTrainingInput(
                numb_steps=args.steps_study, disp_freq=10, save_freq=args.steps_study
            ),
        }
        n_atoms = system.get_natoms() * args.replicate**3
        print(f"threads={args.threads}  training data: Li7P3S11, 84 atoms, 8 training frames")
        columns = ("steps", "steps/s", "frozen ns/day", "compressed ns/day", "speed-up")
        widths = (6, 9, 14, 18, 9)
        header = " ".join(f"{c:>{w}s}" for c, w in zip(columns, widths, strict=True))
        print(f"{'preset':8s} {header}  (LAMMPS, {n_atoms} atoms)")
        for name, settings in presets.items():
            run = train(root, name, settings, report, args.threads)
            speeds = [
                lammps_ns_per_day(
                    Path(run.directory) / m, system, args.replicate, args.md_steps, args.threads
                )
                if m
                else np.nan
                for m in (run.frozen_model, run.compressed_model)
            ]
            print(
                f"{name:8s} {settings.numb_steps:6d} {run.steps_per_s:9.1f} {speeds[0]:14.4f} "
                f"{speeds[1]:18.4f} {speeds[1] / speeds[0]:8.2f}x"
            )


if __name__ == "__main__":
    main()
