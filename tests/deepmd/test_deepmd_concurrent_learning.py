"""Concurrent learning end to end on the embedded engines: CHGNet reference MD, a DeePMD
ensemble of two, LAMMPS exploration with model deviation, CHGNet relabelling, retraining."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, job, run_locally
from pymatgen.core.trajectory import Trajectory

from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput
from litcl_flows.engines.deepmd.trust import TrustLevels
from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdEnsembleMaker, DeepmdTrainMaker
from litcl_flows.makers.labelling import LabelFramesMaker
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
from litcl_flows.makers.learning import ConcurrentLearningMaker
from litcl_flows.makers.reference import CHGNET
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

#: The project venv's ``dp`` and ``lmp`` (CI does not put the venv on PATH).
VENV_BIN = Path(sys.executable).parent
DP_CMD = str(VENV_BIN / "dp") if (VENV_BIN / "dp").is_file() else "dp"
LMP_CMD = str(VENV_BIN / "lmp") if (VENV_BIN / "lmp").is_file() else "lmp"
THREADS_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def _loop(**changes) -> ConcurrentLearningMaker:
    # under-trained on purpose: 300 steps of a tiny net on 22 frames of a 60-step run
    tiny = DeepmdTrainingInput.demo(
        rcut_A=4.5,
        embedding_neurons=[4, 8],
        fitting_neurons=[8, 8],
        numb_steps=300,
        decay_steps=50,
        disp_freq=50,
        save_freq=100,
    )
    settings = dict(
        label_maker=LabelFramesMaker(
            reference_engine="chgnet", static_maker=CHGNET.static_maker({})
        ),
        dataset_maker=DeepmdDatasetMaker(
            valid_fraction=0.3, frame_stride_fs=0.0, gap_fs=0.0, stress_unit="eV/A3"
        ),
        ensemble_maker=DeepmdEnsembleMaker(
            train_maker=DeepmdTrainMaker(
                training_input=tiny, dp_cmd=DP_CMD, compress=False, threads=1
            ),
            n_models=2,
        ),
        explore_maker=LammpsDeepmdMDMaker(
            name="exploration",
            n_steps=100,
            equilibration_steps=0,
            minimize=False,
            thermo_every=5,
            dump_mobile_every=5,
            dump_all_every=5,
            restart_every=100,
            lmp_cmd=LMP_CMD,
            lmp_env=THREADS_ENV,
            polling_time_s=1,
        ),
        temperatures_K=(600.0,),
        # the tiny nets' deviation floor is about 0.06 eV/Å however much data they see (their
        # validation force error is about 0.25 eV/Å): a lower level under it would mark every
        # frame a candidate in every iteration, and fewer candidates could not show
        trust_levels=TrustLevels(level_f_lo_eV_A=0.15, level_f_hi_eV_A=2.0),
        max_labelled=20,
        converged_fraction=0.0,
        max_iterations=2,
    )
    settings.update(changes)
    return ConcurrentLearningMaker(**settings)


def _held_out_force_rmse(model: str, trajectory: Trajectory, type_map: list[str]) -> float:
    """Force RMSE (eV/Å, over all atoms and frames) of ``model`` against the CHGNet forces of
    ``trajectory``, evaluated with DeePMD-kit's own inference."""
    from deepmd.infer import DeepPot

    structures = [trajectory.get_structure(i) for i in range(len(trajectory))]
    coords = np.array([s.cart_coords for s in structures])
    cells = np.array([s.lattice.matrix.reshape(9) for s in structures])
    types = [type_map.index(site.specie.symbol) for site in structures[0]]
    _, forces, _ = DeepPot(model).eval(coords, cells, types)
    truth = np.array([frame["forces"] for frame in trajectory.frame_properties])
    return float(np.sqrt(np.mean((forces.reshape(truth.shape) - truth) ** 2)))


def test_loop_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 2 models"):
        _loop(ensemble_maker=DeepmdEnsembleMaker(n_models=1))
    with pytest.raises(ValueError, match="converged_fraction"):
        _loop(converged_fraction=1.5)
    with pytest.raises(ValueError, match="multiple of dump_all_every"):
        _loop(explore_maker=LammpsDeepmdMDMaker(dump_all_every=10, deviation_every=15))
    with pytest.raises(ValueError, match="label_maker"):
        _loop(label_maker=None).make(None, [])


@job
def _reference_run() -> dict:
    return {"objects": {"trajectory": None}}


def test_the_loop_hands_reference_data_on_by_address(memory_job_store) -> None:
    # jobflow on FireWorks refuses a replacement flow whose jobs reference jobs outside it,
    # and resolved, the reference trajectories would be copied into every job the loop
    # makes: it hands them on as StoredOutput addresses, which only the dataset job reads
    from jobflow.managers.fireworks import flow_to_workflow

    from litcl_flows.makers.stored import StoredOutput

    reference = _reference_run()
    loop = _loop().make(load_structure("li3ticl6"), [reference.output])
    response = loop.jobs[0].run(memory_job_store)
    flow_to_workflow(response.replace, memory_job_store)  # what JobFiretask does with it
    jobs = {j.name: j for j in response.replace.jobs}
    dataset, decide = jobs["deepmd dataset 0"], jobs["concurrent learning 0 decide"]
    for passed in (dataset.function_args[0], decide.function_args[1]):
        assert passed == [StoredOutput(reference.uuid)]
    assert dataset.config.expose_store


@pytest.mark.slow
def test_an_under_trained_ensemble_is_caught_and_retrained(
    tmp_path, monkeypatch, memory_job_store
) -> None:
    for key, value in THREADS_ENV.items():
        monkeypatch.setenv(key, value)
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    reference = CHGNET.aimd_maker(
        temperature_K=600.0,
        n_steps=60,
        time_step_fs=1.0,
        hubbard_u_eV={},
        n_segments=1,
        walltime_s=None,
        traj_interval=2,
        velocity_seed=1,
    ).make(cell)
    loop = _loop().make(cell, [reference.output])
    run_locally(
        Flow([reference, loop]),
        store=memory_job_store,
        create_folders=True,
        root_dir=tmp_path,
        ensure_success=True,
    )
    doc = memory_job_store.get_output(loop.jobs[0].uuid, load=True)
    doc = doc if isinstance(doc, dict) else doc.model_dump()
    first, second = doc["iterations"]
    # caught: most explored frames lie at or above the lower level, and some were labelled
    assert first["decision"] == "label and retrain"
    assert first["accurate_fraction"] < 0.5 and first["n_picked"] > 0
    assert first["n_frames_explored"] == 21  # steps 0, 5, ..., 100
    # the picked frames joined training only; the validation set is the reference's own
    assert second["n_labelled_frames"] == first["n_picked"]
    assert second["n_training_frames"] == first["n_training_frames"] + first["n_picked"]
    # retrained on them, the ensemble agrees better on what it explores
    assert second["max_devi_f_mean_eV_A"] < first["max_devi_f_mean_eV_A"]
    assert second["decision"] == "max_iterations" and not doc["converged"]
    assert "not converged after 2 iteration(s)" in doc["stop_reason"]
    assert len(doc["model_paths"]) == 2
    # fewer candidates: the frames it doubted were labelled and learnt
    assert second["candidate_fraction"] < first["candidate_fraction"]
    assert 1 - second["accurate_fraction"] < 1 - first["accurate_fraction"]
    # and better where it explored, by an independent measure: an unseen CHGNet run at the
    # exploration temperature (another velocity seed, as long as the exploration), its frames
    # past the reference run's training block (its first 40 steps): steps 40 to 100, with
    # CHGNet's forces as truth
    held_out = CHGNET.aimd_maker(
        temperature_K=600.0,
        n_steps=100,
        time_step_fs=1.0,
        hubbard_u_eV={},
        n_segments=1,
        walltime_s=None,
        traj_interval=5,
        velocity_seed=2,
    ).make(cell)
    run_locally(
        held_out,
        store=memory_job_store,
        create_folders=True,
        root_dir=tmp_path,
        ensure_success=True,
    )
    trajectory = memory_job_store.get_output(held_out.uuid, load=True)["objects"]["trajectory"]
    if not isinstance(trajectory, Trajectory):
        trajectory = Trajectory.from_dict(trajectory)
    trajectory = trajectory[8:]
    # mean over the ensemble: its members differ only in their seed, so the mean damps the
    # scatter of one tiny net (with seeds 1, 2 and 3, 4 a single member improved by 9 to 24 %,
    # the mean by 14 to 17 %)
    rmse = [
        np.mean([_held_out_force_rmse(m, trajectory, doc["type_map"]) for m in it["model_paths"]])
        for it in doc["iterations"]
    ]
    assert rmse[1] < 0.9 * rmse[0]
