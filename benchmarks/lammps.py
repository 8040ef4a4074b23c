"""LAMMPS + DeePMD speed: the Maker against bare ``lmp`` on the same input; compressed model.

Run: ``.venv/bin/python benchmarks/lammps.py [--atoms 336] [--steps 500]``.
It trains a tiny se_e2_a model on the real Li7P3S11 VASP frames
(``../shared/data/third_party``), freezes and compresses it, then prints LAMMPS's own
throughput (katom-step/s from the ``Performance:`` line) for: bare ``lmp``, the Maker
(custodian, restart files, parsing), and bare ``lmp`` with
the compressed model. One thread each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import dpdata
from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore

from litcl_flows.engines.lammps import (
    LammpsMDInput,
    parse_log,
    replicate_to_atoms,
    type_order,
    write_inputs,
)
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker

ROOT = Path(__file__).resolve().parents[1]
OUTCAR = ROOT.parent / "shared/data/third_party/vasp_aimd/Li7P3S11_npt_langevin_custodian/OUTCAR"
BIN = ROOT / ".venv" / "bin"
ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def train_model(work: Path) -> tuple[Path, Path]:
    """Train, freeze and compress a tiny model; return (frozen, compressed)."""
    dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar").to("deepmd/npy", str(work / "data"))
    config = {
        "model": {
            "type_map": ["Li", "P", "S"],
            "descriptor": {
                "type": "se_e2_a",
                "sel": [40, 20, 60],
                "rcut_smth": 0.5,
                "rcut": 5.0,
                "neuron": [8, 16, 32],
                "axis_neuron": 8,
                "seed": 1,
            },
            "fitting_net": {"neuron": [32, 32, 32], "seed": 1},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 20},
        "loss": {"start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": {
            "training_data": {"systems": ["data"], "batch_size": 1},
            "numb_steps": 100,
            "seed": 1,
            "disp_freq": 100,
            "save_freq": 100,
        },
    }
    (work / "input.json").write_text(json.dumps(config))
    env = {**os.environ, **ENV}
    for args in (
        ["train", "input.json"],
        ["freeze", "-o", "graph.pb"],
        ["compress", "-i", "graph.pb", "-o", "graph_compressed.pb"],
    ):
        subprocess.run(
            [str(BIN / "dp"), "--tf", *args], cwd=work, env=env, check=True, capture_output=True
        )
    return work / "graph.pb", work / "graph_compressed.pb"


def cpu_use(directory: Path) -> float:
    """LAMMPS's ``% CPU use`` of the MD run: below 100 % the machine was shared."""
    line = next(
        x for x in (directory / "lammps.out").read_text().splitlines()[::-1] if "% CPU use" in x
    )
    return float(line.split("%")[0]) / 100


def bare_lmp(directory: Path) -> float:
    """Run ``lmp`` directly on the inputs in ``directory``; katom-step/s of the MD."""
    with open(directory / "lammps.out", "w") as out:
        subprocess.run(
            [str(BIN / "lmp"), "-in", "in.lammps", "-log", "none"],
            cwd=directory,
            stdout=out,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **ENV},
            check=True,
        )
    (block,) = parse_log(directory / "lammps.out").md_blocks
    return block.performance.throughput_katom_step_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=336, help="cell size (replicated)")
    parser.add_argument("--steps", type=int, default=500, help="MD steps per run")
    args = parser.parse_args()
    import pymatgen.core  # noqa: F401  (dpdata's pymatgen export needs it loaded)

    work = Path(tempfile.mkdtemp(prefix="litcl_lammps_bench_"))
    frozen, compressed = train_model(work)
    structure = replicate_to_atoms(
        dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar").to("pymatgen/structure")[0],
        args.atoms,
    )
    # no minimisation: a 100-step model's landscape is not worth minimising; speed is the point
    settings = dict(
        n_steps=args.steps,
        thermo_every=100,
        dump_mobile_every=100,
        dump_all_every=500,
        restart_every=args.steps,
        minimize=False,
    )
    results, cpu = {}, {}
    for label, model in (("bare lmp", frozen), ("bare lmp, compressed model", compressed)):
        directory = work / label.replace(" ", "_").replace(",", "")
        params = LammpsMDInput(
            model_path=str(model), elements=type_order(structure), temperature_K=300.0, **settings
        )
        write_inputs(structure, directory, params)
        results[label] = bare_lmp(directory)
        cpu[label] = cpu_use(directory)
    maker = LammpsDeepmdMDMaker(
        lmp_env=ENV, lmp_cmd=str(BIN / "lmp"), polling_time_s=1, equilibration_steps=0, **settings
    )
    md = maker.make(structure, str(frozen), 300.0, ["Li", "P", "S"])
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    start = time.perf_counter()
    run_locally(
        md,
        store=store,
        root_dir=work / "maker",
        create_folders=True,
        ensure_success=True,
        log=False,
    )
    maker_wall_s = time.perf_counter() - start
    doc = store.get_output(md.uuid)
    results["Maker (custodian)"] = doc["throughput_katom_step_s"]
    cpu["Maker (custodian)"] = cpu_use(Path(doc["chunks"][-1]["directory"]))
    print(f"{len(structure)} atoms, {args.steps} steps, 1 thread, in {work}")
    per_cpu = {label: value / cpu[label] for label, value in results.items()}
    for label, value in results.items():
        print(
            f"  {label:28s} {value:8.2f} katom-step/s at {100 * cpu[label]:5.1f} % CPU"
            f" ({per_cpu[label]:.2f} per CPU-second)"
        )
    for name, table in (("wall", results), ("per CPU-second", per_cpu)):
        ratio = table["Maker (custodian)"] / table["bare lmp"]
        speedup = table["bare lmp, compressed model"] / table["bare lmp"]
        print(
            f"  {name}: Maker / bare lmp {100 * ratio:.1f} % (target >= 98 %), "
            f"compressed / uncompressed {speedup:.2f}x"
        )
    print(
        f"  Maker job wall time (start-up, custodian polling, parsing included): "
        f"{maker_wall_s:.1f} s"
    )


if __name__ == "__main__":
    main()
