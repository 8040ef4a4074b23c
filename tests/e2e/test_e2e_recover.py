"""A worker killed (SIGKILL) in the middle of a demo job: recovery completes the study once.

The spec is the demo's pipeline shrunk to a few minutes (fewer steps, no NEB).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import DEMO_SPEC, REPO, run_litcl, study_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

#: Changes to the demo spec that keep every step but make each one short (the one training
#: in place of the demo's concurrent learning, which test_e2e_demo covers).
SHRINK = {
    "name": "li3ticl6-recover",
    "relax": {"fmax_eV_A": 0.2, "max_steps": 30},
    "aimd": {"temperatures_K": [900, 1200], "n_steps": 60, "time_step_fs": 1.0},
    "deepmd": {
        "preset": "demo",
        "overrides": {"rcut_A": 5.0, "numb_steps": 200, "decay_steps": 50, "disp_freq": 50},
        # its 60-step AIMD needs a finer stride and a shorter gap to leave training frames
        "frame_stride_fs": 5.0,
        "gap_fs": 20.0,
    },
    "learning": {"enabled": False},
    "mlmd": {
        "n_atoms": 160,
        "temperatures_K": [800, 1000, 1200],
        "n_steps": 3000,
        "equilibration_steps": 0,
        "thermo_every": 100,
        "dump_mobile_every": 20,
        "dump_all_every": 500,
        "restart_every": 500,
    },
    # A 200-step net melts the host (35-48 Å² measured): this test is about recovery, not
    # physics, so the melt check is off.
    "analysis": {"n_blocks": 3, "rdf_pairs": ["Cl-Ti"], "max_host_msd_A2": None},
    "neb": {"enabled": False},
}


def _shrunk_spec(path: Path) -> Path:
    spec = yaml.safe_load(DEMO_SPEC.read_text())
    spec.update(SHRINK)
    path.write_text(yaml.safe_dump(spec))
    return path


def _running_job(launches: Path, prefix: str) -> bool:
    for out in launches.glob("*/job.out"):
        if f"Starting job - {prefix}" in out.read_text(errors="replace"):
            return True
    return False


def test_sigkill_mid_lammps_job_then_recover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    spec = _shrunk_spec(tmp_path / "recover.yaml")
    assert run_litcl(home, "submit", str(spec)).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "litcl_flows", "run"],
        env=study_env(home),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 900
    while not _running_job(home / "launches", "lammps") and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker ended before reaching an ML-MD job"
        time.sleep(1)
    time.sleep(3)  # inside the run: lmp started, no document written yet
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its lmp child
    worker.wait(timeout=60)

    recovered = run_litcl(home, "run", "--recover", "--lost-after", "0")
    assert recovered.returncode == 0, recovered.stderr[-3000:]

    monkeypatch.setenv("LITCL_HOME", str(home))
    from litcl_flows.settings import load_settings
    from litcl_flows.store.config import job_store

    store = job_store(load_settings())
    store.connect()
    try:
        documents = list(store.query({}, properties=["uuid", "index", "name"]))
    finally:
        store.close()
    keys = Counter((d["uuid"], d["index"]) for d in documents)
    assert max(keys.values()) == 1, "a job output was stored twice"
    names = Counter(d["name"] for d in documents)
    assert names["transport study"] == 1
    assert sum(n for name, n in names.items() if name.startswith("transport analysis")) == 3
    study = run_litcl(
        home,
        "query",
        "--study",
        "li3ticl6-recover",
        "--job",
        "transport study",
        "--field",
        "output.branches",
        "--json",
    )
    assert study.returncode == 0
    assert '"completed": true' in study.stdout
