"""Routing of steps to workers, and recovery of jobs whose worker died."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from litcl_flows.flows.spec import load_spec
from litcl_flows.flows.study import build_study_workflow

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def test_steps_carry_their_category_in_the_firework_spec(smoke_spec: Path, tmp_path) -> None:
    (firework,) = build_study_workflow(load_spec(smoke_spec)).fws
    assert firework.spec["_category"] == "cpu"
    assert "_fworker" not in firework.spec

    spec = yaml.safe_load(smoke_spec.read_text())
    spec["resources"] = {"relax": {"category": "bigmem", "fworker": "node07"}}
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(yaml.safe_dump(spec))
    (firework,) = build_study_workflow(load_spec(pinned)).fws
    assert (firework.spec["_category"], firework.spec["_fworker"]) == ("bigmem", "node07")


# A worker that checks a job out (RUNNING, saved) and is killed before it finishes.
DYING_WORKER = """
from fireworks import Firework, FWorker, ScriptTask, Workflow
from litcl_flows.settings import load_settings
from litcl_flows.store.embedded import save
from litcl_flows.store.launchpad import open_launchpad

launchpad = open_launchpad(load_settings())
launchpad.add_wf(Workflow([Firework(ScriptTask.from_str("echo done"), name="victim")]))
launchpad.checkout_fw(FWorker(), ".")
save(launchpad)
print("running", flush=True)
input()
"""


def test_run_recover_reruns_a_job_whose_worker_died(
    litcl_home: Path, litcl, process_env, tmp_path: Path
) -> None:
    assert litcl("init").returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-c", DYING_WORKER],
        env=process_env(),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout.readline().strip() == "running"
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=60)

    # Embedded: the lock proves the worker is gone, so a plain run recovers the job.
    recovered = litcl("run", "--json")
    assert recovered.returncode == 0, recovered.stderr
    assert "lost runs (RUNNING, worker gone) put back to READY: [1]" in recovered.stderr
    assert [(e["name"], e["state"]) for e in json.loads(recovered.stdout)] == [
        ("victim", "COMPLETED")
    ]


def test_no_launch_command_is_frozen_into_the_fireworks(litcl_home: Path, monkeypatch) -> None:
    """dp and lmp come from the worker's settings when a job runs (a GPU node's own build),
    as VASP_CMD does, not from the machine that submitted."""
    monkeypatch.setenv("LITCL_DP_CMD", "SUBMIT-HOST-dp")
    monkeypatch.setenv("LITCL_LMP_CMD", "SUBMIT-HOST-lmp")
    demo = Path(__file__).resolve().parents[2] / "workflows" / "li3ticl6_demo.yaml"
    workflow = build_study_workflow(load_spec(demo))
    serialised = json.dumps(workflow.to_dict(), default=str)
    assert "SUBMIT-HOST" not in serialised
    commands: dict[tuple[str, str], object] = {}

    def collect(node: object) -> None:  # every Maker, the loop's nested ones included
        if isinstance(node, dict):
            for key in ("dp_cmd", "lmp_cmd"):
                if key in node:
                    commands[node["@class"], key] = node[key]
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(workflow.to_dict()["fws"])
    assert commands == {
        ("DeepmdTrainMaker", "dp_cmd"): None,
        ("LammpsDeepmdMDMaker", "lmp_cmd"): None,
    }


def test_learning_routes_training_and_exploration_to_gpu_and_labels_to_cpu(
    memory_job_store, monkeypatch, tmp_path: Path
) -> None:
    """The loop's jobs are made while it runs: each keeps the category of its step."""
    from litcl_flows.flows.study import ordered_cell

    monkeypatch.setenv("LITCL_HOME", str(tmp_path))
    spec = load_spec(WORKFLOWS / "li3ticl6_paper.yaml")
    routing = {"train": "gpu", "mlmd": "gpu", "label": "cpu", "analysis": "cpu"}
    assert {step: getattr(spec.resources, step).category for step in routing} == routing
    loop = spec.to_maker().learning_maker
    structure, _ = ordered_cell(spec)
    (first,) = loop.make(structure, []).jobs
    assert first.config.manager_config == {"_category": "cpu"}
    # what the first iteration makes (dataset, ensemble, explorations, decision)
    made = {
        job.name: job.config.manager_config
        for job, _ in first.run(memory_job_store).replace.iterflow()
    }
    assert made.pop("store_inputs") == {}
    expected = {
        "deepmd dataset 0": "cpu",
        **{f"deepmd train {i}": "gpu" for i in range(4)},
        "exploration 0 298K": "gpu",
        "exploration 0 373K": "gpu",
        "concurrent learning 0 decide": "cpu",
    }
    assert made == {name: {"_category": category} for name, category in expected.items()}
    # the labelling job a decision makes goes to the label step's workers
    assert loop.routing["label"] == {"_category": "cpu"}
