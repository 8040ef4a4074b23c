"""MongoDB mode: standard config files, and no credentials ever inside a Firework."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from litcl_flows.flows.spec import load_spec
from litcl_flows.flows.study import build_study_workflow
from litcl_flows.settings import load_settings
from litcl_flows.store.config import job_store, write_config_files
from litcl_flows.store.launchpad import open_launchpad

PASSWORD = "pw-Zq81-not-in-specs"


@pytest.fixture
def mongodb_settings(litcl_home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LITCL_MODE", "mongodb")
    monkeypatch.setenv("LITCL_MONGO_HOST", "mongo.cluster.example.org")
    monkeypatch.setenv("LITCL_MONGO_USERNAME", "litcl_rw")
    monkeypatch.setenv("LITCL_MONGO_PASSWORD", PASSWORD)
    return load_settings()


def test_no_firework_spec_contains_credentials(mongodb_settings, smoke_spec: Path) -> None:
    workflow = build_study_workflow(load_spec(smoke_spec))
    serialised = json.dumps(workflow.to_dict(), default=str)
    assert PASSWORD not in serialised
    assert "mongo.cluster.example.org" not in serialised
    assert "litcl_rw" not in serialised
    for firework in workflow.fws:
        (task,) = firework.tasks
        assert task.get("store") is None  # workers use their own JOBFLOW_CONFIG_FILE


def test_mongodb_config_files(mongodb_settings, litcl_home: Path) -> None:
    from fireworks import LaunchPad
    from jobflow import JobStore

    write_config_files(mongodb_settings)
    assert not (litcl_home / "launchpad.json").exists()  # nothing embedded in this mode
    fw_config = yaml.safe_load((litcl_home / "FW_config.yaml").read_text())
    assert "MONGOMOCK_SERVERSTORE_FILE" not in fw_config
    # The password's one place on disk: the two files FireWorks and jobflow load, 0600.
    holding = {path.name for path in litcl_home.iterdir() if PASSWORD in path.read_text()}
    assert holding == {"my_launchpad.yaml", "jobflow.yaml"}
    for name in holding:
        assert (litcl_home / name).stat().st_mode & 0o777 == 0o600

    # The files load with FireWorks' and jobflow's own loaders, without connecting.
    from_file = LaunchPad.from_file(str(litcl_home / "my_launchpad.yaml"))
    assert (from_file.host, from_file.name, from_file.username, from_file.password) == (
        "mongo.cluster.example.org",
        "litcl",
        "litcl_rw",
        PASSWORD,
    )
    assert from_file.authsource == "admin"  # the docker-compose root user's database
    assert from_file.mongoclient_kwargs["serverSelectionTimeoutMS"] == 3000
    spec = yaml.safe_load((litcl_home / "jobflow.yaml").read_text())["JOB_STORE"]
    store = JobStore.from_dict_spec(spec)
    assert type(store.docs_store).__name__ == "MongoStore"
    assert (store.docs_store.password, store.docs_store.auth_source) == (PASSWORD, "admin")
    data = store.additional_stores["data"]
    assert type(data).__name__ == "GridFSStore"
    assert data.compression is True
    assert data.host == "mongo.cluster.example.org"

    runtime = open_launchpad(mongodb_settings)
    assert (runtime.username, runtime.password, runtime.authsource) == (
        "litcl_rw",
        PASSWORD,
        "admin",
    )
    runtime_data = job_store(mongodb_settings).additional_stores["data"]
    assert (runtime_data.username, runtime_data.password) == ("litcl_rw", PASSWORD)


def test_no_store_password_keeps_it_off_disk(
    mongodb_settings, litcl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(store_password=False)
    write_config_files(settings)
    for written in litcl_home.iterdir():
        assert PASSWORD not in written.read_text()
    assert "LITCL_MONGO_PASSWORD" in (litcl_home / "my_launchpad.yaml").read_text()
    monkeypatch.delenv("LITCL_MONGO_PASSWORD")
    assert load_settings().mongo_password is None  # nothing on disk to read it from


def test_missing_password_is_one_clear_line(litcl_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("LITCL_MODE", "mongodb")
    monkeypatch.setenv("LITCL_MONGO_USERNAME", "litcl_rw")
    with pytest.raises(ValueError, match="needs a password: export LITCL_MONGO_PASSWORD"):
        open_launchpad(load_settings())
