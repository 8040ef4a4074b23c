"""Fixtures of the LAMMPS tests: a tiny DeePMD model trained once per session, a small cell."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

OUTCAR = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/third_party/vasp_aimd/Li7P3S11_npt_langevin_custodian/OUTCAR"
)
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
#: One thread each, so the tests stay within the shared machine's two cores.
THREADS_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def _tool(name: str) -> str:
    path = VENV_BIN / name
    return str(path) if path.exists() else name


@pytest.fixture(scope="session")
def lmp_cmd() -> str:
    """The ``lmp`` of the project's venv."""
    return _tool("lmp")


@pytest.fixture(scope="session")
def li7p3s11():
    """First frame of the real Li7P3S11 VASP MD (84 atoms, Li/P/S)."""
    if not OUTCAR.is_file():
        pytest.skip(f"third-party test data not found at {OUTCAR}")
    import dpdata

    system = dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar")
    return system.to("pymatgen/structure")[0]


@pytest.fixture(scope="session")
def deepmd_model(tmp_path_factory, li7p3s11) -> Path:
    """A frozen se_e2_a model on the real Li7P3S11 frames, with a known stable energy.

    A network trained for seconds on ten near-identical frames extrapolates wildly: MD with it
    collapses (energy falls by eV per atom), so no temperature statistics can be checked. The
    model therefore carries DeePMD's short-range table (``use_srtab``), a Born–Mayer repulsion
    2000 eV·exp(-r/0.25 Å) for every pair, with the switch radii beyond rcut: the energy is
    the table's everywhere, a smooth, bounded-below Hamiltonian whose canonical statistics are
    known, while the network is still evaluated (LAMMPS runs the full DeePMD graph).
    """
    return _train_model(tmp_path_factory.mktemp("deepmd_model"), seed=1)


@pytest.fixture(scope="session")
def model_ensemble(tmp_path_factory, li7p3s11) -> list[Path]:
    """Two plain models (no short-range table) from seeds 1 and 2: their forces differ.

    Stable for tens of steps from the AIMD frame, not for long MD.
    """
    return [
        _train_model(tmp_path_factory.mktemp(f"ensemble_{seed}"), seed, short_range_table=False)
        for seed in (1, 2)
    ]


def _train_model(work: Path, seed: int, short_range_table: bool = True) -> Path:
    import dpdata

    dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar").to("deepmd/npy", str(work / "data"))
    r_A = np.linspace(0.01, 6.0, 600)
    energy_eV = 2000.0 * np.exp(-r_A / 0.25)
    np.savetxt(work / "pairtab.txt", np.column_stack([r_A] + [energy_eV] * 6))
    config = {
        "model": {
            "type_map": ["Li", "P", "S"],
            "descriptor": {
                "type": "se_e2_a",
                "sel": [40, 20, 60],
                "rcut_smth": 0.5,
                "rcut": 5.0,
                "neuron": [4, 8],
                "axis_neuron": 4,
                "seed": seed,
            },
            "fitting_net": {"neuron": [8, 8], "seed": seed},
        },
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-4, "decay_steps": 20},
        "loss": {"start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": {
            "training_data": {"systems": ["data"], "batch_size": 1},
            "numb_steps": 50,
            "seed": seed,
            "disp_freq": 50,
            "save_freq": 50,
        },
    }
    if short_range_table:
        config["model"].update(use_srtab="pairtab.txt", smin_alpha=0.1, sw_rmin=8.0, sw_rmax=9.0)
    (work / "input.json").write_text(json.dumps(config))
    env = {**os.environ, **THREADS_ENV}
    dp = _tool("dp")
    for args in (["train", "input.json"], ["freeze", "-o", "graph.pb"]):
        subprocess.run([dp, "--tf", *args], cwd=work, env=env, check=True, capture_output=True)
    return work / "graph.pb"
