"""`litcl analyze` and `litcl arrhenius` refuse impossible input in one line, exit non-zero
and print nothing on stdout (issue 20, items 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from litcl_flows.cli.analyze import analyze, arrhenius
from litcl_flows.io import write_lammps_dump


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("refusals") / "li.dump"
    rng = np.random.default_rng(0)
    positions = rng.uniform(0, 10, (8, 3)) + np.cumsum(rng.normal(0, 0.1, (200, 8, 3)), axis=0)
    with open(path, "w") as handle:
        for i, pos in enumerate(positions):
            write_lammps_dump(handle, 10 * i, 10.0 * np.eye(3), np.mod(pos, 10.0), np.ones(8))
    return path


def _refused(command, args: list[str], says: str) -> None:
    result = CliRunner().invoke(command, args)
    assert result.exit_code != 0, result.stdout
    assert result.stdout == ""
    message = result.stderr.strip().splitlines()
    assert says in message[-1], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--temperature", "-300", "not a finite number above 0"),
        ("--temperature", "0", "not a finite number above 0"),
        ("--temperature", "nan", "not a finite number above 0"),
        ("--temperature", "inf", "not a finite number above 0"),
        ("--time-step-fs", "0", "not a finite number above 0"),
        ("--time-step-fs", "-1", "not a finite number above 0"),
        ("--charge", "0", "charge number must be non-zero"),
        ("--type-map", "Li,Xx", "Xx: not element symbols"),
        ("--type-map", "Li,Li", "an element is named twice"),
        ("--blocks", "1000", "200 frames make 1000 blocks of 0 frame(s)"),
    ],
)
def test_analyze_refuses_impossible_physics(dump: Path, option: str, value: str, says: str):
    args = {"--temperature": "600", "--time-step-fs": "1", "--type-map": "Li"}
    args[option] = value
    flat = [item for pair in args.items() for item in pair]
    _refused(analyze, [str(dump), *flat, "--json"], says)


def test_arrhenius_needs_three_distinct_temperatures(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"temperature_K": 600.0, "conductivity_mS_cm": 5.0}))
    _refused(
        arrhenius,
        [str(path)] * 3,
        "1 distinct temperature(s): an Arrhenius fit with an error bar needs at least 3",
    )


def test_an_empty_dump_is_one_line_in_a_log(tmp_path: Path) -> None:
    """Piped stderr (a job log) gets the error alone: no progress bar, no blank line."""
    import subprocess
    import sys

    empty = tmp_path / "empty.lammpstrj"
    empty.touch()
    command = ["analyze", str(empty), "--temperature", "600", "--time-step-fs", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {empty}: no frames\n"
