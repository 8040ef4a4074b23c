"""Shared fixtures: an isolated LITCL_HOME, an in-memory JobStore, the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Real third-party outputs and the reference study, beside the repository (see README).
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
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
