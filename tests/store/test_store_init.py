"""`litcl init`: the config files FireWorks and jobflow read, written idempotently."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml


def _snapshot(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file()}


def test_init_is_idempotent_and_keeps_workflows(
    litcl_home: Path, litcl, smoke_spec: Path, workflow_names
) -> None:
    first = litcl("init", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["launchpad_created"] is True
    assert {Path(f).name for f in report["files"]} == {
        "litcl.yaml",
        "FW_config.yaml",
        "my_launchpad.yaml",
        "my_fworker.yaml",
        "jobflow.yaml",
    }
    assert workflow_names(litcl_home / "launchpad.json") == []
    before = _snapshot(litcl_home)

    second = litcl("init", "--json")
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["launchpad_created"] is False
    assert _snapshot(litcl_home) == before

    submitted = litcl("submit", str(smoke_spec))
    assert submitted.returncode == 0, submitted.stderr
    assert litcl("init").returncode == 0
    assert workflow_names(litcl_home / "launchpad.json") == ["li3ticl6-smoke"]


def test_config_files_load_with_fireworks_and_jobflow_loaders(
    litcl_home: Path, litcl, process_env
) -> None:
    assert litcl("init").returncode == 0
    fw_config = yaml.safe_load((litcl_home / "FW_config.yaml").read_text())
    assert fw_config["MONGOMOCK_SERVERSTORE_FILE"] == str(litcl_home / "launchpad.json")
    assert fw_config["LAUNCHPAD_LOC"] == str(litcl_home / "my_launchpad.yaml")
    check = (
        "from fireworks import FWorker\n"
        "from jobflow import SETTINGS\n"
        f"w = FWorker.from_file({str(litcl_home / 'my_fworker.yaml')!r})\n"
        "store = SETTINGS.JOB_STORE\n"
        "print(w.name, type(store.docs_store).__name__, "
        "type(store.additional_stores['data']).__name__, store.docs_store.database_path)\n"
    )
    env = process_env(
        FW_CONFIG_FILE=str(litcl_home / "FW_config.yaml"),
        JOBFLOW_CONFIG_FILE=str(litcl_home / "jobflow.yaml"),
    )
    result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "litcl_local",
        "MontyStore",
        "MontyStore",
        str(litcl_home / "store"),
    ]
