"""The demo study, run once per test session as a user runs it (``litcl demo``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SPEC = REPO / "workflows" / "li3ticl6_demo.yaml"


def study_env(home: Path) -> dict[str, str]:
    """The caller's environment without litcl/FireWorks/jobflow settings, on ``home``.

    Thread counts are left to the engines: the demo is sized for both cores.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LITCL_", "MONGOMOCK_"))
        and k not in ("FW_CONFIG_FILE", "JOBFLOW_CONFIG_FILE", "OMP_NUM_THREADS")
    }
    return {**env, "LITCL_HOME": str(home)}


def run_litcl(home: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """``litcl ARGS`` in a fresh process on ``home``."""
    return subprocess.run(
        [sys.executable, "-m", "litcl_flows", *args],
        env=study_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``litcl demo --json`` on a fresh home: {home, report_dir, document, report}."""
    root = tmp_path_factory.mktemp("demo")
    home, report_dir = root / "home", root / "report"
    # about 20 minutes alone: the limit only guards against a hang
    result = run_litcl(home, "demo", "--json", "--report-dir", str(report_dir), timeout=3600)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    return {
        "home": home,
        "report_dir": report_dir,
        "document": printed["study"],
        "report": Path(printed["report"]),
        "stderr": result.stderr,
    }
