"""The learning-rate schedule dp train runs, and the spec's warning when it underfits.

References are DeePMD-kit's documented stepped decay worked out by hand:
``lr(t) = start_lr * r ** floor(t / decay_steps)`` with
``r = (stop_lr / start_lr) ** (decay_steps / numb_steps)``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput, LearningRateWarning

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_paper_schedule_is_two_stairs():
    """1e-3 → 1e-8 over 1e4 steps in stairs of 5000: r = 1e-5 ** 0.5 = 10 ** -2.5."""
    lr = DeepmdTrainingInput(decay_steps=5000).learning_rate()
    assert lr.decay_steps == 5000
    assert lr.decay_rate == pytest.approx(10**-2.5, rel=1e-12)
    assert lr.steps_at_start_lr == 5000
    assert lr.stair_drop == pytest.approx(316.2277660168, rel=1e-9)
    assert lr.last_lr == pytest.approx(3.16227766e-6, rel=1e-8)  # steps 5000-9999


def test_deepmd_replaces_a_decay_longer_than_the_run():
    """decay_steps ≥ numb_steps: DeePMD-kit uses numb_steps // 100 + 1 (here 6) instead."""
    lr = DeepmdTrainingInput(numb_steps=500, decay_steps=5000, stop_lr=1e-5).learning_rate()
    assert lr.decay_steps == 6
    assert lr.decay_rate == pytest.approx((1e-5 / 1e-3) ** (6 / 500), rel=1e-12)
    # last step 499: floor(499 / 6) = 83 stairs
    assert lr.last_lr == pytest.approx(1e-3 * ((1e-5 / 1e-3) ** (6 / 500)) ** 83, rel=1e-9)


@pytest.mark.parametrize(
    ("changes", "underfits"),
    [
        ({"decay_steps": 5000}, True),  # the paper: half the steps at 1e-3, then ÷316
        ({}, False),  # the default: 20 stairs of 500, ÷1.78 each
        ({"stop_lr": 1e-4, "numb_steps": 1000, "decay_steps": 499}, False),  # 499 < 500 steps
        ({"stop_lr": 1e-4, "numb_steps": 1000, "decay_steps": 500}, True),  # half at start_lr
        ({"stop_lr": 1e-9, "numb_steps": 1000, "decay_steps": 300}, False),  # ÷63 per stair
        ({"stop_lr": 1e-9, "numb_steps": 1000, "decay_steps": 400}, True),  # ÷251 per stair
    ],
)
def test_schedule_problem_thresholds(changes, underfits):
    problem = DeepmdTrainingInput(**changes).schedule_problem()
    assert (problem is not None) is underfits
    if underfits:
        assert "\n" not in problem


def test_paper_spec_warns_once_in_one_line_and_keeps_its_numbers():
    from litcl_flows.flows.spec import load_spec

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = load_spec(WORKFLOWS / "li3ticl6_paper.yaml")
    messages = [str(w.message) for w in caught if issubclass(w.category, LearningRateWarning)]
    assert len(messages) == 1 and "\n" not in messages[0]
    assert "5000 of 10000 steps" in messages[0] and "÷316" in messages[0]
    kept = spec.deepmd.training_input(spec.profile)
    assert (kept.start_lr, kept.stop_lr, kept.decay_steps, kept.numb_steps) == (
        1e-3,
        1e-8,
        5000,
        10000,
    )


def test_demo_spec_does_not_warn():
    from litcl_flows.flows.spec import load_spec

    with warnings.catch_warnings():
        warnings.simplefilter("error", LearningRateWarning)
        spec = load_spec(WORKFLOWS / "li3ticl6_demo.yaml")
    assert spec.deepmd.training_input(spec.profile).schedule_problem() is None


def test_bad_schedule_is_a_one_line_spec_error():
    from pydantic import ValidationError

    from litcl_flows.flows.spec import DeepmdSpec

    with pytest.raises(ValidationError) as excinfo:
        DeepmdSpec(preset="demo", overrides={"start_lr": -1.0})
    message = excinfo.value.errors()[0]["msg"]
    assert "start_lr" in message and "\n" not in message


def test_dataset_settings_follow_the_aimd_frames():
    """CHGNet stores every traj_interval steps, VASP every ionic step."""
    from litcl_flows.flows.spec import DeepmdSpec
    from litcl_flows.makers.reference import AimdTemperaturesMaker

    def frame_interval_fs(engine: str) -> float:
        maker = AimdTemperaturesMaker(reference_engine=engine, time_step_fs=2.0, traj_interval=5)
        return maker.frame_interval_fs

    assert frame_interval_fs("chgnet") == 10.0
    assert frame_interval_fs("vasp") == 2.0
    deepmd = DeepmdSpec(preset="demo")
    assert deepmd.dataset_settings(2.0) == {
        "valid_fraction": 0.1,
        "split": "blocks",
        "frame_interval_fs": 2.0,
        "frame_stride_fs": 10.0,
        "gap_fs": 100.0,
    }
