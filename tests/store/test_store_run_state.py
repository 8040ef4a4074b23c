"""Embedded mode tells the truth about running jobs (issue 20, item 6).

A Firework that copies ``launchpad.json`` while it runs sees itself RUNNING on disk; a worker
killed mid-job (the job's shell sends SIGKILL to it) leaves its Firework RUNNING, which
``litcl status`` shows and the next ``litcl run`` puts back to READY and completes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import bson.json_util
import yaml


def _workflow(home: Path, tmp_path: Path) -> Path:
    snapshot = {
        "fw_id": 1,
        "name": "snapshot",
        "spec": {
            "_tasks": [
                {
                    "_fw_name": "PyTask",
                    "func": "shutil.copy",
                    "args": [str(home / "launchpad.json"), str(tmp_path / "during.json")],
                }
            ]
        },
    }
    marker = tmp_path / "killed_once"
    # The first time, the job's shell kills its worker (its parent) like a node failure.
    script = f"test -e {marker} || {{ touch {marker}; kill -9 $PPID; }}"
    killer = {
        "fw_id": 2,
        "name": "killer",
        "spec": {"_tasks": [{"_fw_name": "ScriptTask", "script": [script]}]},
    }
    path = tmp_path / "wf.yaml"
    path.write_text(
        yaml.safe_dump(
            {"name": "state", "fws": [snapshot, killer], "links": {"1": [2]}, "metadata": {}}
        )
    )
    return path


def _states(db_file: Path) -> dict[int, str]:
    database = bson.json_util.loads(db_file.read_text())
    fireworks = database["litcl"]["fireworks"]["documents"]
    return {fw["fw_id"]: fw["state"] for _, fw in fireworks}


def test_running_is_on_disk_and_a_killed_worker_is_recovered(
    litcl: Callable, litcl_home: Path, tmp_path: Path
) -> None:
    assert litcl("init").returncode == 0
    assert litcl("lpad", "add", str(_workflow(litcl_home, tmp_path))).returncode == 0

    killed = litcl("run")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert _states(tmp_path / "during.json")[1] == "RUNNING"  # saved at checkout
    assert _states(litcl_home / "launchpad.json") == {1: "COMPLETED", 2: "RUNNING"}
    status = litcl("status", "--json")
    assert json.loads(status.stdout)[0]["fw_states"] == {"COMPLETED": 1, "RUNNING": 1}

    recovered = litcl("run")
    assert recovered.returncode == 0, recovered.stderr[-2000:]
    assert "lost runs (RUNNING, worker gone) put back to READY: [2]" in recovered.stderr
    assert _states(litcl_home / "launchpad.json") == {1: "COMPLETED", 2: "COMPLETED"}


def test_a_healthy_run_says_nothing_about_lost_runs(
    litcl: Callable, litcl_home: Path, tmp_path: Path
) -> None:
    assert litcl("init").returncode == 0
    (tmp_path / "killed_once").touch()
    assert litcl("lpad", "add", str(_workflow(litcl_home, tmp_path))).returncode == 0
    result = litcl("run")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lost runs" not in result.stderr
    assert _states(litcl_home / "launchpad.json") == {1: "COMPLETED", 2: "COMPLETED"}
