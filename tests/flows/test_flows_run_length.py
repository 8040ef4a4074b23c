"""Issue 18, item 2 through the study: ``mlmd.run_length`` in the spec becomes the LAMMPS
Maker's run-length rule, with the analysis's fixed fit window and blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from litcl_flows.analysis.run_length import RunLengthTarget
from litcl_flows.analysis.transport import block_fit_window
from litcl_flows.flows.makers import mlmd_maker
from litcl_flows.flows.spec import SpecError, StudySpec, load_spec
from litcl_flows.makers.lammps import RunLengthControl

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
BASE = """\
name: run-length-test
material:
  structure: li3ticl6
mlmd:
  n_steps: 60000
  equilibration_steps: 10000
  dump_mobile_every: 100
"""
WINDOW = "analysis:\n  fit_window_ps: [1.0, 5.0]\n"


def _load(tmp_path: Path, text: str) -> StudySpec:
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return load_spec(path)


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(SpecError) as error:
        _load(tmp_path, text)
    (line,) = str(error.value).splitlines()
    return line


def test_runs_are_fixed_length_unless_asked(tmp_path: Path) -> None:
    spec = _load(tmp_path, BASE + WINDOW)
    assert spec.mlmd.run_length is None
    assert mlmd_maker(spec).run_length is None


def test_the_maker_carries_the_rule_with_the_analysis_window_and_blocks(tmp_path: Path) -> None:
    text = BASE + (
        "  run_length:\n"
        "    rel_stderr_D_self: 0.2\n"
        "    rel_stderr_conductivity: 0.3\n"
        "    min_hops_per_ion: 2\n"
        "    check_every_steps: 20000\n"
        "analysis:\n"
        "  fit_window_ps: [1.0, 5.0]\n"
        "  n_blocks: 4\n"
        "  max_msd_exponent_deviation: 0.3\n"
    )
    maker = mlmd_maker(_load(tmp_path, text))
    assert maker.run_length == RunLengthControl(
        fit_window_ps=(1.0, 5.0),
        n_blocks=4,
        # no max_exponent_deviation of its own: the analysis's flag threshold
        target=RunLengthTarget(
            rel_stderr_D_self=0.2,
            rel_stderr_conductivity=0.3,
            max_exponent_deviation=0.3,
            min_hops_per_ion=2.0,
        ),
        check_every_steps=20000,
    )
    # n_steps is the maximum; the first chunk runs to the first verdict
    assert maker.n_steps == 60000
    assert maker.first_target_step() == 10000 + 20000
    own_deviation = "    max_exponent_deviation: 0.1\n    min_hops_per_ion"
    own = _load(tmp_path, text.replace("    min_hops_per_ion", own_deviation))
    assert mlmd_maker(own).run_length.target.max_exponent_deviation == 0.1


def test_defaults_of_the_rule(tmp_path: Path) -> None:
    """The issue's defaults: D_self to 10 %, five hops per ion, a verdict every 0.5 ns."""
    spec = _load(tmp_path, BASE + "  run_length: {}\n" + WINDOW)
    control = mlmd_maker(spec).run_length
    assert control.target == RunLengthTarget(
        rel_stderr_D_self=0.10,
        rel_stderr_conductivity=None,
        max_exponent_deviation=0.25,
        min_hops_per_ion=5.0,
    )
    assert control.check_every_steps == 500_000
    assert control.n_blocks == 5


def test_the_whole_study_maker_carries_it(tmp_path: Path) -> None:
    spec = _load(tmp_path, BASE + "  run_length: {check_every_steps: 25000}\n" + WINDOW)
    maker = spec.to_maker()
    assert maker.mlmd_maker.md_maker.run_length.check_every_steps == 25000


def test_run_length_needs_a_fixed_window(tmp_path: Path) -> None:
    line = _refused(tmp_path, BASE + "  run_length: {}\n")
    assert "mlmd.run_length needs analysis.fit_window_ps" in line


def test_the_window_must_fit_by_the_maximum_length(tmp_path: Path) -> None:
    # 50,000 production steps every 100: 501 frames, five blocks of 100 frames (9.9 ps)
    text = BASE + "  run_length: {}\nanalysis:\n  fit_window_ps: [1.0, 12.0]\n"
    line = _refused(tmp_path, text)
    assert "fit window 1–12 ps needs ≥ 3 frames inside one of 5 blocks of 9.9 ps" in line
    assert "n_steps: the maximum length of mlmd.run_length" in line


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("rel_stderr_D_self: 0", "rel_stderr_D_self: Input should be greater than 0"),
        ("rel_stderr_D_self: -0.1", "rel_stderr_D_self: Input should be greater than 0"),
        ("rel_stderr_D_self: .nan", "rel_stderr_D_self: Input should be a finite number"),
        ("rel_stderr_conductivity: .inf", "rel_stderr_conductivity: Input should be a finite"),
        ("rel_stderr_conductivity: 0", "rel_stderr_conductivity: Input should be greater than 0"),
        ("min_hops_per_ion: -1", "min_hops_per_ion: Input should be greater than or equal to 0"),
        ("min_hops_per_ion: .nan", "min_hops_per_ion: Input should be a finite number"),
        ("max_exponent_deviation: 0", "max_exponent_deviation: Input should be greater than 0"),
        ("check_every_steps: 0", "check_every_steps: Input should be greater than 0"),
        ("check_every_steps: 1.5", "check_every_steps: Input should be a valid integer"),
        ("rel_stderr_D: 0.1", "rel_stderr_D: Extra inputs are not permitted"),
    ],
)
def test_bad_values_are_one_line_naming_the_key(
    tmp_path: Path, setting: str, expected: str
) -> None:
    line = _refused(tmp_path, BASE + f"  run_length:\n    {setting}\n" + WINDOW)
    assert f"mlmd.run_length.{expected}" in line


def test_demo_runs_until_its_maximum_with_a_first_verdict_where_the_window_fits() -> None:
    """The demo's maximum is its former fixed length; its first verdict comes before it, once
    the blocks hold the 0.2–0.7 ps window (from 2.14 ps on; earlier it would say "too short")."""
    spec = load_spec(WORKFLOWS / "li3ticl6_demo.yaml")
    md, analysis = spec.mlmd, spec.analysis
    maker = mlmd_maker(spec)
    assert maker.n_steps == 3000 and maker.run_length is not None
    first = maker.first_target_step()
    frame_ps = md.dump_mobile_every * md.time_step_fs / 1000

    def fits(step: int) -> bool:
        n_frames = (step - md.equilibration_steps) // md.dump_mobile_every + 1
        try:
            block_fit_window(n_frames, analysis.n_blocks, frame_ps, analysis.fit_window_ps)
        except ValueError:
            return False
        return True

    # 2,140 production steps: 108 frames, three blocks of 36 (0.70 ps): the window just fits
    assert fits(2340) and not fits(2320)
    assert first == 2400 and fits(first) and first < maker.n_steps
    # the paper spec keeps the study's fixed length
    assert load_spec(WORKFLOWS / "li3ticl6_paper.yaml").mlmd.run_length is None


def test_demo_summary_says_why_each_run_stopped() -> None:
    from litcl_flows.cli.demo import summary_tables

    def run(t: float, **stop: object) -> dict[str, object]:
        numbers = dict.fromkeys(
            ("D_self_cm2_s", "D_total_cm2_s", "haven_ratio", "conductivity_mS_cm"), 1.0
        )
        numbers |= dict.fromkeys(
            ("D_self_stderr_cm2_s", "D_total_stderr_cm2_s", "haven_ratio_stderr"), 0.1
        )
        numbers |= {"conductivity_stderr_mS_cm": 0.1, "conductivity_self_mS_cm": 1.0}
        numbers |= {"conductivity_self_stderr_mS_cm": 0.1}
        return {"temperature_K": t, "completed": True, **numbers, **stop}

    doc = {
        "is_stand_in": False,
        "comparison": [],
        "failures": [],
        "branches": [
            {
                "hubbard_u_eV": {"Ti": 4.0},
                "runs": [
                    run(500.0, stop_reason="max_length", stop_length_ps=2.8),
                    run(600.0, stop_reason="converged", stop_length_ps=2.2),
                ],
            }
        ],
    }
    _, rows, columns = summary_tables(doc)[0]
    assert "stopped" in columns
    assert [row["stopped"] for row in rows] == ["max length at 2.8 ps", "converged at 2.2 ps"]
    for branch_run in doc["branches"][0]["runs"]:
        branch_run["stop_reason"] = "fixed_length"
    _, _, columns = summary_tables(doc)[0]
    assert "stopped" not in columns  # fixed length, as every run before the rule
