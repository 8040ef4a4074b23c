"""``litcl structures``, invoked through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pymatgen.core import Structure

from litcl_flows.cli.structures import structures
from litcl_flows.structures.library import builtin_structure_path


def invoke(*args: str):
    return CliRunner().invoke(structures, list(args), catch_exceptions=False)


def test_writes_poscar_and_cif_and_prints_a_table(tmp_path: Path) -> None:
    result = invoke(
        "li3ticl6",
        "--atoms",
        "40",
        "--occupancy",
        "Ti:2a=0.754,Ti:4g=0.123",
        "--n",
        "2",
        "-o",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert "Ti 2a" in result.output and "3/4 = 0.750" in result.output
    poscars = sorted(tmp_path.glob("*.vasp"))
    assert [p.name for p in poscars] == [
        "Li3TiCl6_40at_seed0_01.vasp",
        "Li3TiCl6_40at_seed0_02.vasp",
    ]
    for poscar in poscars:
        from_poscar = Structure.from_file(poscar)
        from_cif = Structure.from_file(poscar.with_suffix(".cif"))
        assert from_poscar.composition.get_el_amt_dict() == {"Li": 12, "Ti": 4, "Cl": 24}
        assert from_cif.composition == from_poscar.composition


def test_json_output_from_a_cif_path(tmp_path: Path) -> None:
    cif = str(builtin_structure_path("li3ticl6"))
    result = invoke(cif, "--atoms", "20", "--n", "1", "--json", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    assert record["formula"] == "Li6 Ti2 Cl12"
    assert record["space_group"] == "C2/m"
    assert isinstance(record["ewald_energy_eV_per_atom"], float)
    assert Path(record["poscar"]).is_file() and Path(record["cif"]).is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["li3ticl6", "--atoms", "170"], "not reachable"),
        (["li3ticl6", "--atoms", "10"], "smaller than one cell"),
        (["li3ticl6", "--atoms", "160", "--occupancy", "Ti:2a=0.9,Li:2a=0.3"], "sum to"),
        (["li3ticl6", "--atoms", "160", "--occupancy", "Ti2a=0.5"], "SPECIES:SITE=VALUE"),
        (["li3ticl6", "--atoms", "160", "--mobile", "Na"], "no Na"),
        (["no_such_file.cif", "--atoms", "160"], "not found"),
    ],
)
def test_bad_input_is_a_one_line_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke(*args, "-o", str(tmp_path))
    assert result.exit_code != 0
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert result.output.count("\n") == 1


def test_bad_oxidation_states(tmp_path: Path) -> None:
    result = invoke("li3ticl6", "--atoms", "20", "--oxidation-states", "Ti", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "ELEMENT=CHARGE" in result.output
