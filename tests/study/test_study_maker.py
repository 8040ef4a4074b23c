"""The study is one Maker of nested Makers (``StudySpec.to_maker()``): the Flow it makes is the
one ``build_study_flow`` submits, and a nested Maker adjusted with ``update_kwargs`` reaches the
jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobflow import Flow, Job

from litcl_flows.flows.spec import StudySpec, load_spec
from litcl_flows.flows.study import TransportStudyMaker, build_study_flow, ordered_cell
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
from litcl_flows.makers.reference import AimdTemperaturesMaker

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

# Recorded from build_study_flow before the study became a Maker (issue 17), when the demo
# trained once.
SMOKE_JOBS = ["relax U=0"]
DEMO_ONE_TRAINING_JOBS = [
    "relax U(Ti)=4",
    "aimd 700 K U(Ti)=4",
    "aimd 1000 K U(Ti)=4",
    "deepmd dataset U(Ti)=4",
    "deepmd train U(Ti)=4",
    *[f"lammps deepmd nvt U(Ti)=4 {t}K" for t in (500, 550, 600, 650)],
    *[f"transport analysis U(Ti)=4 {t}K" for t in (500, 550, 600, 650)],
    "arrhenius U(Ti)=4",
    "hop barriers",
    "transport study",
]
# The demo as shipped: the concurrent-learning loop (one job that makes the rest as it runs)
# in place of the dataset and the one training.
DEMO_JOBS = [
    *DEMO_ONE_TRAINING_JOBS[:3],
    "concurrent learning U(Ti)=4",
    *DEMO_ONE_TRAINING_JOBS[5:],
]


def _jobs(flow: Flow) -> list[Job]:
    return [j for node in flow.jobs for j in (_jobs(node) if isinstance(node, Flow) else [node])]


@pytest.fixture(scope="module")
def demo() -> StudySpec:
    return load_spec(WORKFLOWS / "li3ticl6_demo.yaml")


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [
        ("smoke", SMOKE_JOBS),
        ("demo", DEMO_JOBS),
        ("demo, one training", DEMO_ONE_TRAINING_JOBS),
    ],
)
def test_the_maker_makes_the_same_jobs_as_before(
    spec_name: str, expected: list[str], demo: StudySpec
) -> None:
    specs = {
        "smoke": load_spec(WORKFLOWS / "smoke.yaml"),
        "demo": demo,
        "demo, one training": demo.model_copy(
            update={"learning": demo.learning.model_copy(update={"enabled": False})}
        ),
    }
    spec = specs[spec_name]
    maker = spec.to_maker()
    assert isinstance(maker, TransportStudyMaker)
    flow = maker.make(*ordered_cell(spec))
    assert [j.name for j in _jobs(flow)] == expected
    assert [j.name for j in _jobs(build_study_flow(spec))] == expected
    assert flow.name == spec.name
    assert all(j.metadata["study"] == spec.name for j in _jobs(flow))


def test_steps_after_stop_after_have_no_maker(demo: StudySpec) -> None:
    maker = demo.model_copy(update={"stop_after": "aimd"}).to_maker()
    assert maker.reference_maker.aimd_maker is not None
    assert (maker.train_maker, maker.mlmd_maker, maker.neb_maker, maker.spec) == (None,) * 4


def test_a_nested_maker_adjusted_with_update_kwargs_reaches_its_jobs(demo: StudySpec) -> None:
    maker = demo.to_maker()
    adjusted = maker.update_kwargs({"n_steps": 4000}, class_filter=LammpsDeepmdMDMaker)
    adjusted = adjusted.update_kwargs({"n_steps": 7}, class_filter=AimdTemperaturesMaker)
    assert maker.mlmd_maker.md_maker.n_steps == demo.mlmd.n_steps  # a new Maker, as atomate2's
    flow = adjusted.make(*ordered_cell(demo))
    jobs = _jobs(flow)
    md = [j for j in jobs if j.name.startswith("lammps deepmd nvt")]
    aimd = [j for j in jobs if j.name.startswith("aimd")]
    assert [j.maker.n_steps for j in md] == [4000] * len(demo.mlmd.temperatures_K)
    assert [j.maker.n_steps for j in aimd] == [7] * len(demo.aimd.temperatures_K)
    assert [j.name for j in jobs] == DEMO_JOBS
