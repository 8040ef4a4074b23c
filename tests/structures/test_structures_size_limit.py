"""Ordered supercells above :data:`MAX_ORDERED_ATOMS` are refused before any work (issue 20).

``litcl structures li3ticl6 --atoms 10000000`` used to run for minutes into gigabytes with
no output; it now ends at once with one line naming the size and the limit.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

import litcl_flows.structures
from litcl_flows.cli.structures import structures
from litcl_flows.flows.study import ordered_cell
from litcl_flows.structures import ordering
from litcl_flows.structures.errors import StructureInputError
from litcl_flows.structures.library import load_structure
from litcl_flows.structures.ordering import (
    MAX_ORDERED_ATOMS,
    check_ordered_size,
    ordered_supercells,
)


class _Reached(Exception):
    """Raised by a stand-in for the expensive part: the size check let the call through."""


def _fail_if_reached(*args: object, **kwargs: object) -> None:
    raise _Reached


def test_the_reported_command_is_refused_at_once_writing_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path) as cwd:
        start = time.perf_counter()
        result = runner.invoke(structures, ["li3ticl6", "--atoms", "10000000"])
        elapsed = time.perf_counter() - start
        assert list(Path(cwd).iterdir()) == []
    assert result.exit_code == 1
    assert result.output == (
        f"Error: --atoms 10000000: at most {MAX_ORDERED_ATOMS} atoms in an ordered supercell "
        "(the Ewald ordering grows as N² in memory and N³ in time; "
        f"{MAX_ORDERED_ATOMS} atoms take about a minute with 50 samples)\n"
    )
    assert elapsed < 3


def test_the_output_folder_is_not_created(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        structures, ["li3ticl6", "--atoms", str(MAX_ORDERED_ATOMS + 20), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert not out.exists()


def test_the_largest_allowed_size_passes_the_check() -> None:
    check_ordered_size(MAX_ORDERED_ATOMS)
    with pytest.raises(StructureInputError, match=rf"^n_atoms {MAX_ORDERED_ATOMS + 1}: at most"):
        check_ordered_size(MAX_ORDERED_ATOMS + 1)


def test_the_api_refuses_before_looking_at_the_structure(monkeypatch: pytest.MonkeyPatch) -> None:
    structure = load_structure("li3ticl6")
    monkeypatch.setattr(ordering, "site_orbits", _fail_if_reached)
    with pytest.raises(StructureInputError, match="n_atoms 10000000: at most"):
        ordered_supercells(structure, 10_000_000)
    with pytest.raises(_Reached):  # the largest allowed size gets past the check
        ordered_supercells(structure, MAX_ORDERED_ATOMS)


def test_the_study_flow_refuses_a_huge_spec_supercell() -> None:
    supercell = SimpleNamespace(n_atoms=10_000_000, site_occupancies=None, seed=0, n_samples=5000)
    material = SimpleNamespace(structure="li3ticl6", supercell=supercell, mobile_species="Li")
    with pytest.raises(ValueError, match=f"n_atoms 10000000: at most {MAX_ORDERED_ATOMS} atoms"):
        ordered_cell(SimpleNamespace(material=material))


def test_a_long_allowed_run_says_so_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litcl_flows.structures, "ordered_supercells", _fail_if_reached)
    result = CliRunner().invoke(structures, ["li3ticl6", "--atoms", str(MAX_ORDERED_ATOMS)])
    assert isinstance(result.exception, _Reached)
    assert f"Ordering {MAX_ORDERED_ATOMS} atoms from 5000 samples" in result.stderr


def test_the_help_states_the_limit() -> None:
    result = CliRunner().invoke(structures, ["--help"])
    assert f"at most {MAX_ORDERED_ATOMS})" in " ".join(result.output.split())
