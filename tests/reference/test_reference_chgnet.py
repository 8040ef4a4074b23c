"""The CHGNet stand-in runs for real: relax → NVT MD on the 20-atom Li6Ti2Cl12 cell.

A few relaxation steps and a few dozen MD steps (~1 min on 2 cores); the MD trajectory comes
back from the ``data`` store and is exported to deepmd-npy with a fixed type map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, OutputReference, run_locally

from litcl_flows.makers.reference import AimdTemperaturesMaker, ReferenceDataMaker
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

N_MD_STEPS = 24
TYPE_MAP = ["Li", "Ti", "Cl"]


@pytest.mark.slow
def test_chgnet_relax_then_md_stores_and_exports_trajectory(
    memory_job_store, tmp_path: Path
) -> None:
    from litcl_flows.engines.deepmd.dataset import trajectories_to_deepmd

    structure = order_by_majority_occupancy(load_structure("li3ticl6"))
    flow = ReferenceDataMaker(
        reference_engine="chgnet",
        hubbard_u_sets_eV=({"Ti": 4.0},),
        aimd_maker=AimdTemperaturesMaker(temperatures_K=(600.0,), n_steps=N_MD_STEPS),
        max_relax_steps=3,
        fmax_eV_A=0.05,
    ).make(structure)
    relax, aimd_flow = flow.jobs
    assert isinstance(aimd_flow, Flow)
    (aimd,) = aimd_flow.jobs
    # The relaxed structure reaches the MD as a reference to the relaxation's output.
    assert isinstance(aimd.function_args[0], OutputReference)
    assert aimd.function_args[0].uuid == relax.uuid

    run_locally(
        flow, store=memory_job_store, create_folders=True, root_dir=tmp_path, ensure_success=True
    )

    relax_doc = memory_job_store.get_output(relax.uuid)
    assert relax_doc["reference_engine"] == "chgnet"
    assert relax_doc["hubbard_u_requested_eV"] == {"Ti": 4.0}
    assert relax_doc["hubbard_u_applied"] is False
    assert "cannot apply a Hubbard U" in relax_doc["hubbard_u_note"]

    raw = memory_job_store.query_one({"uuid": aimd.uuid})
    assert raw["output"]["objects"]["trajectory"]["store"] == "data"  # not inline
    doc = memory_job_store.get_output(aimd.uuid, load=True)
    assert doc["reference_engine"] == "chgnet" and doc["is_stand_in"] is True
    assert doc["hubbard_u_applied"] is False
    assert doc["temperature_K"] == 600.0 and doc["time_step_fs"] == 1.0
    trajectory = doc["objects"]["trajectory"]
    frames = trajectory["frame_properties"]
    assert len(frames) == doc["n_frames"] == N_MD_STEPS + 1  # initial frame + every step
    assert {"energy", "forces", "stress"} <= set(frames[0])
    assert np.asarray(frames[-1]["forces"]).shape == (20, 3)

    assert np.asarray(frames[0]["stress"]).shape == (3, 3)  # kBar, VASP sign, as VASP frames
    report = trajectories_to_deepmd(
        [trajectory], tmp_path / "dataset", type_map=TYPE_MAP, stress_unit="kBar"
    )
    assert report.type_map == TYPE_MAP
    assert report.n_frames_train + report.n_frames_valid == N_MD_STEPS + 1
    system = tmp_path / "dataset" / report.train_systems[0]
    assert (system / "type_map.raw").read_text().split() == TYPE_MAP
    assert np.load(system / "set.000" / "force.npy").shape == (report.n_frames_train, 60)
