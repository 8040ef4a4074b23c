"""End-to-end: a real tiny DeePMD model trained once per session on real VASP MD frames.

Stored numbers are checked against values recomputed here independently: from the ``dp test``
detail files with numpy, from ``dp test``'s own log, and from ``DeepPot`` predictions.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "third_party"
OUTCAR = SHARED / "vasp_aimd" / "Li7P3S11_npt_langevin_custodian" / "OUTCAR"
_VENV_DP = Path(sys.executable).parent / "dp"
DP_CMD = str(_VENV_DP) if _VENV_DP.is_file() else "dp"
NUMB_STEPS = 300

pytestmark = pytest.mark.slow


def tiny_input(**changes):
    from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput

    settings = {
        "rcut_A": 4.5,
        "embedding_neurons": [4, 8],
        "fitting_neurons": [8, 8],
        "numb_steps": NUMB_STEPS,
        "disp_freq": 20,
        "save_freq": 100,
    }
    settings.update(changes)
    return DeepmdTrainingInput.demo(**settings)


def outcar_trajectory():
    """The Li7P3S11 AIMD run as a pymatgen Trajectory with energy/forces/stress (eV/Å³)."""
    import dpdata
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.trajectory import Trajectory

    system = dpdata.LabeledSystem(str(OUTCAR), fmt="vasp/outcar")
    species = [system["atom_names"][t] for t in system["atom_types"]]
    structures, props = [], []
    for i in range(system.get_nframes()):
        cell = system["cells"][i]
        structures.append(
            Structure(Lattice(cell), species, system["coords"][i], coords_are_cartesian=True)
        )
        stress = -system["virials"][i] / abs(np.linalg.det(cell))
        props.append(
            {"energy": system["energies"][i], "forces": system["forces"][i], "stress": stress}
        )
    return Trajectory.from_structures(structures, frame_properties=props, constant_lattice=False)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """Dataset job + training job run with jobflow into an in-memory store (once)."""
    if not OUTCAR.is_file():
        pytest.skip(f"third-party data not found at {OUTCAR}")
    from jobflow import Flow, JobStore, run_locally
    from maggma.stores import MemoryStore

    from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdTrainMaker

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    # POTIM 2 fs, 10 frames: every frame kept, the last 2 held out, frame 7 left out for a
    # 4 fs gap (training 0-6 at 0-12 fs, validation 8-9 at 16-18 fs).
    dataset_job = DeepmdDatasetMaker(
        valid_fraction=0.2, frame_interval_fs=2.0, frame_stride_fs=2.0, gap_fs=4.0
    ).make([outcar_trajectory()])
    train_job = DeepmdTrainMaker(
        training_input=tiny_input(),
        dp_cmd=DP_CMD,
        threads=1,
        run_kwargs={"polling_time_step_s": 1, "monitor_freq": 2},
    ).make(dataset_job.output)
    root = tmp_path_factory.mktemp("deepmd_flow")
    run_locally(
        Flow([dataset_job, train_job]),
        store=store,
        create_folders=True,
        root_dir=root,
        ensure_success=True,
    )
    doc = store.query_one({"uuid": train_job.uuid}, load=True)["output"]
    raw = store.query_one({"uuid": train_job.uuid}, load=False)["output"]
    return {"store": store, "doc": doc, "raw": raw, "dir": Path(doc["dir_name"])}


def test_run_reached_step_and_compressed(trained):
    doc = trained["doc"]
    assert doc["last_step"] == NUMB_STEPS
    assert doc["compressed"] and doc["tested_model"] == "compressed_model.pb"
    assert doc["corrections"] == []
    assert doc["learning_curve"]["step"][-1] == NUMB_STEPS
    assert doc["steps_per_s"] > 0 and doc["training_walltime_s"] > 0
    assert doc["study_table_I"]["force_rmse_eV_A"] == 7.827e-3


def test_document_says_what_was_held_out(trained):
    assert trained["doc"]["validation_set"] == {
        "split": "blocks",
        "valid_fraction": 0.2,
        "frame_stride_fs": 2.0,
        "gap_fs": 4.0,
        "min_valid_train_separation_fs": 4.0,
        "n_frames_train": 7,
        "n_frames_valid": 2,
    }


def test_learning_rate_is_the_one_dp_train_ran(trained):
    """The stored schedule against the lr column dp train wrote and the formula by hand.

    tiny_input: 1e-3 → 1e-5 over 300 steps, stairs of 100: r = 1e-2 ** (100 / 300).
    """
    doc = trained["doc"]
    rate = 1e-2 ** (100 / 300)
    assert doc["learning_rate"]["decay_rate"] == pytest.approx(rate, rel=1e-12)
    assert doc["learning_rate"]["last_lr"] == pytest.approx(1e-3 * rate**2, rel=1e-12)
    assert doc["learning_rate_problem"] is None
    curve = doc["learning_curve"]
    for step, lr in zip(curve["step"], curve["lr"], strict=True):
        # lcurve.out prints 2 significant digits (2.2e-04)
        assert lr == pytest.approx(1e-3 * rate ** (step // 100), rel=0.025), step


def test_big_outputs_go_to_data_store(trained):
    raw = trained["raw"]
    for key in ("learning_curve", "parity", "frozen_model_blob", "compressed_model_blob"):
        assert raw[key]["store"] == "data" and "blob_uuid" in raw[key], key
    assert trained["store"].additional_stores["data"].count() >= 4


def test_metrics_equal_detail_files_recomputed(trained):
    """Recompute the errors from the raw dp test files with numpy, not the package's parser."""
    run_dir, doc = trained["dir"], trained["doc"]
    e = np.loadtxt(run_dir / "dp_test.e.out", ndmin=2)
    f = np.loadtxt(run_dir / "dp_test.f.out", ndmin=2)
    natoms = 84
    de = (e[:, 1] - e[:, 0]) / natoms
    df = f[:, 3:] - f[:, :3]
    val = doc["validation"]
    assert val["n_frames"] == 2
    assert val["energy_mae_eV_per_atom"] == pytest.approx(np.abs(de).mean(), rel=1e-12)
    assert val["energy_rmse_eV_per_atom"] == pytest.approx(np.sqrt((de**2).mean()), rel=1e-12)
    assert val["force_mae_eV_A"] == pytest.approx(np.abs(df).mean(), rel=1e-12)
    assert val["force_rmse_eV_A"] == pytest.approx(np.sqrt((df**2).mean()), rel=1e-12)
    # per element: type.raw of the validation system repeats once per frame
    atom_type = np.loadtxt(run_dir / "deepmd_data/valid/sys_000/type.raw", dtype=int)
    rows = np.tile(atom_type, 2)
    for t, element in enumerate(["Li", "P", "S"]):
        expected = np.sqrt((df[rows == t] ** 2).mean())
        assert val["force_rmse_per_element_eV_A"][element] == pytest.approx(expected, rel=1e-12)


def test_metrics_equal_dp_test_log(trained):
    """dp test prints its own averages (6 significant digits) in test.log."""
    log = (trained["dir"] / "test.log").read_text()
    printed = {
        key: float(re.findall(rf"{re.escape(label)}\s*:\s*([0-9.e+-]+)", log)[-1])
        for key, label in {
            "energy_mae_eV_per_atom": "Energy MAE/Natoms",
            "energy_rmse_eV_per_atom": "Energy RMSE/Natoms",
            "force_mae_eV_A": "Force  MAE",
            "force_rmse_eV_A": "Force  RMSE",
        }.items()
    }
    for key, value in printed.items():
        assert trained["doc"]["validation"][key] == pytest.approx(value, rel=1e-5), key


def test_deeppot_predictions_match_parity(trained, tmp_path):
    """Restore the stored model, predict the validation frames with DeepPot, compare."""
    import dpdata
    from deepmd.infer import DeepPot

    from litcl_flows.schemas.deepmd import FileBlob

    doc = trained["doc"]
    model = FileBlob(**doc["compressed_model_blob"]).restore(tmp_path)
    frozen = FileBlob(**doc["frozen_model_blob"]).restore(tmp_path)
    valid = dpdata.LabeledSystem(
        str(trained["dir"] / "deepmd_data/valid/sys_000"), fmt="deepmd/npy"
    )
    n = valid.get_nframes()
    for path, tol in ((model, 1e-8), (frozen, 1e-3)):
        pot = DeepPot(str(path))
        assert pot.get_type_map() == ["Li", "P", "S"]
        energy, force, _ = pot.eval(
            valid["coords"].reshape(n, -1), valid["cells"].reshape(n, 9), valid["atom_types"]
        )
        np.testing.assert_allclose(
            energy.ravel() / 84, doc["parity"]["energy_pred_eV_per_atom"], rtol=0, atol=tol
        )
        np.testing.assert_allclose(
            force.ravel(), doc["parity"]["force_pred_eV_A"], rtol=0, atol=tol * 10
        )
    np.testing.assert_allclose(valid["energies"] / 84, doc["parity"]["energy_data_eV_per_atom"])


def test_model_deviation(trained, tmp_path):
    """A second model with another seed; the deviation equals numpy's std of DeepPot forces."""
    import dpdata
    from deepmd.infer import DeepPot

    from litcl_flows.engines.deepmd.ensemble import max_force_deviation
    from litcl_flows.engines.deepmd.run import run_deepmd_training

    run_dir = trained["dir"]
    other = _copy_run(run_dir, tmp_path / "seed2")
    run_deepmd_training(
        other,
        tiny_input(seed=2, numb_steps=100),
        ["Li", "P", "S"],
        ["deepmd_data/train/sys_000"],
        ["deepmd_data/valid/sys_000"],
        dp_cmd=DP_CMD,
        compress=False,
        threads=1,
    )
    system = dpdata.LabeledSystem(str(run_dir / "deepmd_data/valid/sys_000"), fmt="deepmd/npy")
    models = [run_dir / "frozen_model.pb", other / "frozen_model.pb"]
    devi = max_force_deviation(models, system)
    n = system.get_nframes()
    forces = []
    for m in models:
        _, f, _ = DeepPot(str(m)).eval(
            system["coords"].reshape(n, -1), system["cells"].reshape(n, 9), system["atom_types"]
        )
        forces.append(f.reshape(n, -1, 3))
    f1, f2 = forces
    # the (population) std of two values is |a - b| / 2 per component
    expected = np.linalg.norm(np.abs(f1 - f2) / 2, axis=-1).max(axis=1)
    assert expected.min() > 1e-4  # the seeds give different models
    np.testing.assert_allclose(devi, expected, rtol=1e-10)
    assert np.all(max_force_deviation([models[0], models[0]], system) == 0)


def test_ensemble_maker_varies_seeds():
    from litcl_flows.makers.deepmd import DeepmdEnsembleMaker, DeepmdTrainMaker

    maker = DeepmdEnsembleMaker(DeepmdTrainMaker(training_input=tiny_input()), n_models=3)
    flow = maker.make({"type_map": ["Li"]})
    seeds = [j.function.__self__.training_input.seed for j in flow.jobs]
    assert seeds == [1, 2, 3] and len(flow.output) == 3
    with pytest.raises(ValueError, match="distinct"):
        DeepmdEnsembleMaker(n_models=2, seeds=[5, 5]).make({})


def test_plots(trained, tmp_path):
    from litcl_flows.engines.deepmd.plots import plot_learning_curve, plot_parity

    doc = trained["doc"]
    assert plot_parity(doc["parity"], tmp_path / "parity.png").stat().st_size > 1000
    assert plot_learning_curve(doc["learning_curve"], tmp_path / "lc.png").stat().st_size > 1000


def _copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir()
    shutil.copytree(src / "deepmd_data", dst / "deepmd_data")
    return dst


def test_nan_loss_restarts_from_checkpoint_with_lower_lr(trained, tmp_path):
    """Fabricate a run whose lcurve goes NaN after step 200; resume it to the requested step."""
    from litcl_flows.engines.deepmd.run import run_deepmd_training

    src = trained["dir"]
    run = _copy_run(src, tmp_path / "nan")
    for ckpt in src.glob("model.ckpt-100.*"):
        shutil.copy2(ckpt, run)
    (run / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-100"\n')
    rows = (src / "lcurve.out").read_text().splitlines(keepends=True)
    head = [r for r in rows if r.startswith("#")]
    body = [r for r in rows if not r.startswith("#") and int(r.split()[0]) <= 100]
    nan_row = "    120      nan    nan      nan    nan      nan    nan    1.0e-03\n"
    (run / "lcurve.out").write_text("".join(head + body) + nan_row)
    result = run_deepmd_training(
        run,
        tiny_input(numb_steps=160),
        ["Li", "P", "S"],
        ["deepmd_data/train/sys_000"],
        ["deepmd_data/valid/sys_000"],
        dp_cmd=DP_CMD,
        compress=False,
        threads=1,
        polling_time_step_s=1,
        monitor_freq=2,
    )
    assert result.completed and result.last_step == 160
    assert result.corrections[0]["errors"] == ["non-finite loss in lcurve.out at step 120"]
    assert json.loads((run / "input.json").read_text())["learning_rate"]["start_lr"] == 5e-4
    assert f"restart from model {run / 'model.ckpt-100'}" in (run / "train.log").read_text()
    from litcl_flows.engines.deepmd.outputs import read_lcurve

    curve = read_lcurve(run / "lcurve.out")
    assert np.isfinite(curve["rmse_val"]).all()
    assert curve["step"].tolist() == sorted(set(curve["step"].tolist()))
    # DeePMD's exp schedule after the restart: start_lr 5e-4 decaying to stop_lr over 160 steps
    lr_120 = 5e-4 * (1e-5 / 5e-4) ** (100 / 160)
    assert curve["lr"][curve["step"] == 120][0] == pytest.approx(lr_120, rel=0.02)


def test_killed_training_resumes_in_next_folder(trained, tmp_path):
    """Kill dp train after its first checkpoint; a new run folder restarts and finishes."""
    from litcl_flows.engines.deepmd.inputs import write_input_json
    from litcl_flows.engines.deepmd.jobs import DpTrainJob
    from litcl_flows.engines.deepmd.run import run_deepmd_training

    first = _copy_run(trained["dir"], tmp_path / "first")
    settings = tiny_input(numb_steps=20000, save_freq=50)
    systems = (["deepmd_data/train/sys_000"], ["deepmd_data/valid/sys_000"])
    write_input_json(first, settings, ["Li", "P", "S"], *systems)
    process = DpTrainJob(DP_CMD, threads=1).run(str(first))
    deadline = time.time() + 120
    while not list(first.glob("model.ckpt-*.meta")) and process.poll() is None:
        assert time.time() < deadline, "dp train wrote no checkpoint in 120 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    from litcl_flows.engines.deepmd.outputs import lcurve_last_step

    stopped_at = lcurve_last_step(first / "lcurve.out")
    assert 0 <= stopped_at < 20000
    second = _copy_run(trained["dir"], tmp_path / "second")
    requested = 400
    result = run_deepmd_training(
        second,
        tiny_input(numb_steps=requested, save_freq=50),
        ["Li", "P", "S"],
        *systems,
        dp_cmd=DP_CMD,
        compress=False,
        threads=1,
        restart_from=first,
    )
    assert result.completed and result.last_step == requested
    assert f"restart from model {second}/model.ckpt-" in (second / "train.log").read_text()


def test_dp_data_error_is_unrecoverable_with_one_line(trained, tmp_path):
    """A type map without S: dp fails on the data; custodian stops with dp's line."""
    from custodian import Custodian
    from custodian.custodian import NonRecoverableError

    from litcl_flows.engines.deepmd.handlers import DpDataErrorHandler
    from litcl_flows.engines.deepmd.inputs import write_input_json
    from litcl_flows.engines.deepmd.jobs import DpTrainJob

    run = _copy_run(trained["dir"], tmp_path / "bad")
    write_input_json(run, tiny_input(), ["Li", "P"], ["deepmd_data/train/sys_000"], [])
    handler = DpDataErrorHandler()
    c = Custodian(
        [handler], [DpTrainJob(DP_CMD, threads=1)], polling_time_step=1, directory=str(run)
    )
    with pytest.raises(NonRecoverableError):
        c.run()
    (line,) = handler.correct(str(run))["errors"]
    assert "Elements ['S'] are not present in the provided `type_map`" in line
    assert "\n" not in line


def test_compress_failure_falls_back_to_frozen_model(trained, tmp_path):
    """A failing dp compress: custodian records why and dp test uses the frozen model."""
    from custodian import Custodian

    from litcl_flows.engines.deepmd.handlers import DpCompressFailureHandler
    from litcl_flows.engines.deepmd.jobs import DpCompressJob, DpTestJob

    run = _copy_run(trained["dir"], tmp_path / "fallback")
    shutil.copy2(trained["dir"] / "frozen_model.pb", run)
    (run / "valid_systems.txt").write_text("deepmd_data/valid/sys_000\n")
    # Fake launcher: dp runs, except compress, which fails like a broken build.
    wrapper = tmp_path / "dp_wrapper.sh"
    wrapper.write_text(
        f'#!/bin/sh\ncase "$*" in *compress*) echo "RuntimeError: tabulation failed" >&2; '
        f'exit 3;; esac\nexec {DP_CMD} "$@"\n'
    )
    wrapper.chmod(0o755)
    jobs = [DpCompressJob(str(wrapper), threads=1), DpTestJob(str(wrapper), threads=1)]
    run_log = Custodian(
        [DpCompressFailureHandler()], jobs, max_errors=3, polling_time_step=1, directory=str(run)
    ).run()
    (correction,) = run_log[0]["corrections"]
    assert correction["errors"] == ["dp compress failed: RuntimeError: tabulation failed"]
    assert json.loads((run / "compress_fallback.json").read_text()) == {
        "reason": "RuntimeError: tabulation failed"
    }
    assert not (run / "compressed_model.pb").exists()
    assert DpTestJob().command(str(run))[2:5] == ["test", "-m", "frozen_model.pb"]
    np.testing.assert_allclose(
        np.loadtxt(run / "dp_test.e.out")[:, 1] / 84,
        trained["doc"]["parity"]["energy_pred_eV_per_atom"],
        atol=1e-6,  # frozen vs compressed model
    )
