"""submit → run → query through FireWorks and the JobStore, as separate processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


@pytest.mark.slow
def test_smoke_study_round_trip(litcl_home: Path, litcl, process_env, smoke_spec: Path) -> None:
    submitted = litcl("submit", str(smoke_spec), "--json")
    assert submitted.returncode == 0, submitted.stderr
    workflow_id = json.loads(submitted.stdout)["workflow_id"]

    # FireWorks' own `lpad`, configured only by the files litcl wrote, sees the workflow.
    env = process_env(FW_CONFIG_FILE=str(litcl_home / "FW_config.yaml"))
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "lpad"), "get_wflows", "-d", "more"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    workflows = json.loads(listed.stdout)
    workflows = workflows if isinstance(workflows, list) else [workflows]
    assert [(wf["name"], wf["state"]) for wf in workflows] == [
        (f"li3ticl6-smoke--{workflow_id}", "READY")
    ]

    ran = litcl("run", "--json")
    assert ran.returncode == 0, ran.stderr
    assert [event["state"] for event in json.loads(ran.stdout)] == ["COMPLETED"]

    status = json.loads(litcl("status", "--json").stdout)
    assert [(row["name"], row["state"]) for row in status] == [("li3ticl6-smoke", "COMPLETED")]

    queried = litcl("query", "--study", "li3ticl6-smoke", "--json")
    assert queried.returncode == 0, queried.stderr
    (record,) = json.loads(queried.stdout)
    assert record["job"] == "relax U=0"
    assert record["formula"] == "Li3TiCl6"

    # Independent check: CHGNet's energy of the stored relaxed structure is the stored energy,
    # and the stored forces meet the spec's fmax (0.1 eV/Å).
    detail = litcl(
        "query",
        "--study",
        "li3ticl6-smoke",
        "--json",
        "--field",
        "output.structure",
        "--field",
        "output.output.forces",
    )
    (stored,) = json.loads(detail.stdout)
    from chgnet.model.model import CHGNet
    from pymatgen.core import Structure

    structure = Structure.from_dict(stored["output.structure"])
    assert structure.lattice.a == pytest.approx(record["a_A"])
    prediction = CHGNet.load(verbose=False).predict_structure(structure)
    assert float(prediction["e"]) * len(structure) == pytest.approx(record["energy_eV"], abs=2e-3)
    forces = np.asarray(stored["output.output.forces"])
    assert np.linalg.norm(forces, axis=1).max() <= 0.1 + 1e-6
