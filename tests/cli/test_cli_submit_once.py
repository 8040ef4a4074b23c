"""A study name is submitted once: it keys every stored document (issue 20, item 5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from litcl_flows.settings import load_settings
from litcl_flows.store.config import job_store

STUDY = "li3ticl6-smoke"  # the name in workflows/smoke.yaml


def _store_output(study: str, uuid: str = "job-1") -> None:
    """One job document of ``study`` with its large data in the ``data`` store."""
    store = job_store(load_settings())
    store.connect()
    try:
        document = {
            "uuid": uuid,
            "index": 1,
            "name": "relax",
            "output": {"trajectory": {"positions": [[0.0, 0.0, 0.0]]}},
            "metadata": {"study": study},
        }
        store.update(document, key=["uuid", "index"], save={"data": "trajectory"})
    finally:
        store.close()


def _counts() -> tuple[int, int]:
    store = job_store(load_settings())
    store.connect()
    try:
        return store.count({}), store.additional_stores["data"].count({})
    finally:
        store.close()


def test_second_submit_is_refused_and_changes_nothing(
    litcl: Callable, litcl_home: Path, smoke_spec: Path, workflow_names: Callable
) -> None:
    assert litcl("submit", str(smoke_spec)).returncode == 0
    before = (litcl_home / "launchpad.json").read_bytes()
    second = litcl("submit", str(smoke_spec))
    assert second.returncode == 1
    assert second.stdout == ""
    assert second.stderr.strip().splitlines() == [
        f"Error: study '{STUDY}' (workflow 1 READY on the launchpad, 0 stored outputs) "
        "exists already: give the spec a new `name:`, or submit with --replace to delete the "
        "earlier one first"
    ]
    assert (litcl_home / "launchpad.json").read_bytes() == before
    assert workflow_names(litcl_home / "launchpad.json") == [STUDY]


def test_outputs_alone_are_enough_to_refuse(
    litcl: Callable, litcl_home: Path, smoke_spec: Path, workflow_names: Callable
) -> None:
    # The launchpad was reset (or the workflow deleted) but the store still has the study.
    assert litcl("init").returncode == 0
    _store_output(STUDY)
    refused = litcl("submit", str(smoke_spec))
    assert refused.returncode == 1
    assert "(workflow none on the launchpad, 1 stored outputs) exists already" in refused.stderr
    assert workflow_names(litcl_home / "launchpad.json") == []


def test_replace_deletes_the_earlier_workflow_and_its_outputs(
    litcl: Callable, litcl_home: Path, smoke_spec: Path, workflow_names: Callable
) -> None:
    assert litcl("submit", str(smoke_spec)).returncode == 0
    _store_output(STUDY)
    _store_output("another-study", uuid="job-2")
    assert _counts() == (2, 2)
    replaced = litcl("submit", str(smoke_spec), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert "replaced the earlier study 'li3ticl6-smoke' (workflow 1 READY" in replaced.stderr
    assert replaced.stdout.startswith(f"submitted study '{STUDY}' as workflow 2 ")
    assert workflow_names(litcl_home / "launchpad.json") == [STUDY]
    assert _counts() == (1, 1)  # its document and large data are gone, the other study's not
