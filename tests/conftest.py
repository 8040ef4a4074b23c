"""Shared fixtures: an isolated LITCL_HOME, an in-memory JobStore, the shared test data, and
``litcl`` and Python snippets run as real processes, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import bson.json_util
import pytest

REPO = Path(__file__).resolve().parents[1]
#: Real third-party outputs and the reference study, beside the repository (see README).
SHARED_DIR = REPO.parent / "shared"
THIRD_PARTY_DIR = SHARED_DIR / "data" / "third_party"


@pytest.fixture
def third_party_dir() -> Path:
    """``../shared/data/third_party``; tests that need it skip when it is absent."""
    if not THIRD_PARTY_DIR.is_dir():
        pytest.skip(f"third-party test data not found at {THIRD_PARTY_DIR}")
    return THIRD_PARTY_DIR


@pytest.fixture
def litcl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty LITCL_HOME; no LITCL_* variable from the caller leaks in."""
    for key in list(os.environ):
        if key.startswith("LITCL_"):
            monkeypatch.delenv(key)
    home = tmp_path / "litcl_home"
    monkeypatch.setenv("LITCL_HOME", str(home))
    return home


@pytest.fixture
def memory_job_store():
    """A jobflow JobStore in memory with the ``data`` additional store the Makers use."""
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    return store


@pytest.fixture
def smoke_spec() -> Path:
    return REPO / "workflows" / "smoke.yaml"


@pytest.fixture
def process_env(litcl_home: Path) -> Callable[..., dict[str, str]]:
    """Environment for a child process using ``litcl_home``, plus any extra variables."""

    def make(**extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("LITCL_", "MONGOMOCK_"))
            and k not in ("FW_CONFIG_FILE", "JOBFLOW_CONFIG_FILE")
        }
        return {**env, "LITCL_HOME": str(litcl_home), "OMP_NUM_THREADS": "1", **extra}

    return make


@pytest.fixture
def litcl(process_env: Callable[..., dict[str, str]]) -> Callable[..., subprocess.CompletedProcess]:
    """``litcl ARGS`` in a fresh process on the test's LITCL_HOME."""

    def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "litcl_flows", *args],
            env=process_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )

    return run


@pytest.fixture
def workflow_names() -> Callable[[Path], list[str]]:
    """Workflow names read straight from a mongomock JSON file (not through litcl)."""

    def read(db_file: Path) -> list[str]:
        database = bson.json_util.loads(db_file.read_text())
        return [doc["name"] for _, doc in database["litcl"]["workflows"]["documents"]]

    return read
