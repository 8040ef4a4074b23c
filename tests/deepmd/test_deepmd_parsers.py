"""Parsers against real DeePMD-kit outputs (../shared/data/third_party/deepmd, see its README)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from litcl_flows.engines.deepmd.handlers import (
    DpCompressFailureHandler,
    DpDataErrorHandler,
    DpNanLossHandler,
    DpTrainingValidator,
    DpWalltimeHandler,
)
from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput, write_input_json
from litcl_flows.engines.deepmd.outputs import (
    error_metrics,
    first_nonfinite_step,
    lcurve_last_step,
    read_lcurve,
    read_test_details,
    read_train_log,
)


def test_real_lcurve_v2(third_party_dir):
    curve = read_lcurve(third_party_dir / "deepmd/water_train_and_lammps_hodakamori/lcurve.out")
    assert list(curve) == [
        "step", "rmse_val", "rmse_trn", "rmse_e_val", "rmse_e_trn", "rmse_f_val", "rmse_f_trn",
        "lr",
    ]  # fmt: skip
    assert curve["step"].size == 101
    assert curve["step"][0] == 0 and curve["step"][-1] == 10000
    last = [curve[k][-1] for k in curve]
    assert last == [10000, 1.39e-01, 1.29e-01, 9.22e-03, 8.73e-03, 5.26e-02, 4.31e-02, 3.5e-08]
    assert (
        first_nonfinite_step(
            third_party_dir / "deepmd/water_train_and_lammps_hodakamori/lcurve.out"
        )
        is None
    )


def test_real_dp_test_detail_files(third_party_dir):
    prefix = third_party_dir / "deepmd/dp_test_detail_deepmd_kit/test_dp_test_ener_detail"
    details = read_test_details(prefix)
    assert details.systems == ["test_dp_test"]
    assert details.energy_pred_eV.tolist() == [-930.9691834787725]
    assert details.natoms.tolist() == [6]
    assert details.force_pred_eV_A.shape == (6, 3)
    assert details.force_pred_eV_A[0].tolist() == pytest.approx(
        [-3.034045420701181883e-01, 8.405844663871181455e-01, 7.696947487118487030e-02]
    )
    assert abs(details.force_pred_eV_A.sum(axis=0)).max() < 1e-15
    assert details.force_atom_type is None  # the test system's type.raw is not shipped
    # data_* columns are all 0: there is no model error to report
    assert not details.has_labels
    with pytest.raises(ValueError, match="no labels"):
        error_metrics(details, ["O", "H"])


def test_error_metrics_by_hand(tmp_path):
    """Two frames of a 2-atom system with errors chosen so MAE/RMSE are easy by hand."""
    (tmp_path / "sys").mkdir()
    (tmp_path / "sys/type.raw").write_text("0 1\n")
    (tmp_path / "d.e.out").write_text("# sys: data_e pred_e\n-10 -9.8\n-10 -10.4\n")
    (tmp_path / "d.e_peratom.out").write_text("# sys: data_e pred_e\n-5 -4.9\n-5 -5.2\n")
    f_rows = ["0 0 0 1 0 0", "0 0 0 0 0 0", "0 0 0 0 -1 0", "0 0 0 0 0 2"]
    (tmp_path / "d.f.out").write_text("# sys: data_fx data_fy data_fz pred_fx pred_fy pred_fz\n"
                                      + "\n".join(f_rows))  # fmt: skip
    m = error_metrics(read_test_details(tmp_path / "d", root=tmp_path), ["Li", "Cl"])
    assert m["energy_mae_eV_per_atom"] == pytest.approx((0.1 + 0.2) / 2)
    assert m["energy_rmse_eV_per_atom"] == pytest.approx(np.sqrt((0.01 + 0.04) / 2))
    assert m["force_mae_eV_A"] == pytest.approx(4 / 12)
    assert m["force_rmse_eV_A"] == pytest.approx(np.sqrt(6 / 12))
    assert m["force_mae_per_element_eV_A"] == pytest.approx({"Li": 2 / 6, "Cl": 2 / 6})
    assert m["force_rmse_per_element_eV_A"] == pytest.approx(
        {"Li": np.sqrt(2 / 6), "Cl": np.sqrt(4 / 6)}
    )


def test_train_log_timing(tmp_path):
    log = tmp_path / "train.log"
    log.write_text(
        "[x] DEEPMD INFO    average training time: 0.0040 s/batch (exclude first 20 batches)\n"
        "[x] DEEPMD INFO    wall time: 3.5 s\n[x] DEEPMD INFO    wall time: 1.5 s\n"
    )
    assert read_train_log(log) == {"training_walltime_s": 5.0, "steps_per_s": 250.0}


def test_study_defaults_and_demo_input(tmp_path):
    study = DeepmdTrainingInput()
    d = study.to_input_dict(["Li", "Ti", "Cl"], ["train/sys_000"], ["valid/sys_000"])
    desc, fit = d["model"]["descriptor"], d["model"]["fitting_net"]
    assert (desc["type"], desc["rcut"], desc["neuron"]) == ("se_e2_a", 7.0, [32, 64, 128])
    assert fit["neuron"] == [256, 256, 256] and fit["activation_function"] == "tanh"
    # the study's rates; its decay_steps (5000) underfits, the default has 20 stairs of 500
    assert d["learning_rate"] == {
        "type": "exp", "start_lr": 1e-3, "stop_lr": 1e-8, "decay_steps": 500
    }  # fmt: skip
    assert study.schedule_problem() is None
    assert d["training"]["numb_steps"] == 10000
    demo = DeepmdTrainingInput.demo(seed=7)
    assert demo.numb_steps < study.numb_steps and demo.seed == 7
    path = write_input_json(tmp_path, demo, ["Li"], ["a"], ["b"])
    assert json.loads(path.read_text())["training"]["validation_data"]["systems"] == ["b"]


def _lcurve(tmp_path, rows):
    head = "#  step  rmse_val  rmse_trn  rmse_e_val  rmse_e_trn  rmse_f_val  rmse_f_trn  lr\n"
    (tmp_path / "lcurve.out").write_text(head + "".join(rows))


def test_nan_handler_correction(tmp_path):
    rows = [f"{s} 1 1 1 1 1 1 1e-3\n" for s in (0, 100, 200, 300)]
    rows.append("400 nan nan nan nan nan nan 1e-3\n")
    _lcurve(tmp_path, rows)
    for step in (200, 400):
        for suffix in ("index", "meta", "data-00000-of-00001"):
            (tmp_path / f"model.ckpt-{step}.{suffix}").write_text("")
    write_input_json(tmp_path, DeepmdTrainingInput.demo(), ["Li"], ["a"], ["b"])
    handler = DpNanLossHandler()
    assert handler.check(str(tmp_path))
    result = handler.correct(str(tmp_path))
    assert result["errors"] == ["non-finite loss in lcurve.out at step 400"]
    assert json.loads((tmp_path / "restart.json").read_text()) == {"checkpoint": "model.ckpt-200"}
    assert json.loads((tmp_path / "input.json").read_text())["learning_rate"]["start_lr"] == 5e-4
    assert lcurve_last_step(tmp_path / "lcurve.out") == 100  # the restart reprints step 200
    assert not handler.check(str(tmp_path))


def test_walltime_handler_and_validator(tmp_path):
    handler = DpWalltimeHandler(walltime_s=100, buffer_s=10)
    assert not handler.check(str(tmp_path))
    handler.start_time -= 95
    assert handler.check(str(tmp_path))
    assert handler.correct(str(tmp_path))["actions"] is None
    assert DpWalltimeHandler.raises_runtime_error is False
    validator = DpTrainingValidator(numb_steps=300)
    _lcurve(tmp_path, ["0 1 1 1 1 1 1 1e-3\n", "200 1 1 1 1 1 1 1e-3\n"])
    assert validator.check(str(tmp_path))
    _lcurve(tmp_path, ["0 1 1 1 1 1 1 1e-3\n", "300 1 1 1 1 1 1 1e-3\n"])
    assert not validator.check(str(tmp_path))
    (tmp_path / "freeze.log").write_text("")
    assert validator.check(str(tmp_path))  # freeze ran but no frozen_model.pb


def test_data_error_and_compress_handlers_on_logs(tmp_path):
    (tmp_path / "train.log").write_text("Traceback...\nFileNotFoundError: nodata not found\n")
    handler = DpDataErrorHandler()
    assert handler.check(str(tmp_path))
    result = handler.correct(str(tmp_path))
    assert result == {"errors": ["train.log: FileNotFoundError: nodata not found"], "actions": None}
    compress = DpCompressFailureHandler()
    assert not compress.check(str(tmp_path))
    (tmp_path / "compress.log").write_text("RuntimeError: oops\n")
    assert compress.check(str(tmp_path))
    assert compress.correct(str(tmp_path))["errors"] == ["dp compress failed: RuntimeError: oops"]
    assert not compress.check(str(tmp_path))
