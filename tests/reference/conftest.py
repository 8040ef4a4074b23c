"""Fixtures of the reference-engine tests: atomate2's mock VASP on ``data/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp

#: Reference folders (inputs/ and outputs/) built from real VASP runs; see data/README.md.
REFERENCE_DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture
def mock_vasp(monkeypatch: pytest.MonkeyPatch):
    """Register ``{job name: folder}`` and fake_run_vasp options; VASP runs are copies."""
    yield from monkeypatch_vasp(monkeypatch, REFERENCE_DATA_DIR)
