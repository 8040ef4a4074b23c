"""The `litcl` command: fast start, passthrough to FireWorks, refusals in embedded mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["torch", "tensorflow", "deepmd", "chgnet", "atomate2", "fireworks", "jobflow", "pymatgen"]


def test_help_imports_no_heavy_library() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from litcl_flows.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lpad_passthrough_lists_submitted_workflow(litcl_home: Path, litcl, smoke_spec) -> None:
    assert litcl("submit", str(smoke_spec)).returncode == 0
    listed = litcl("lpad", "get_wflows")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["name"] == "li3ticl6-smoke--1"


def test_rlaunch_multi_is_refused_in_embedded_mode(litcl_home: Path, litcl) -> None:
    result = litcl("rlaunch", "multi", "2")
    assert result.returncode != 0
    (line,) = result.stderr.strip().splitlines()
    assert "rlaunch multi" in line and "MongoDB" in line


def test_run_with_nothing_ready(litcl_home: Path, litcl) -> None:
    result = litcl("run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
