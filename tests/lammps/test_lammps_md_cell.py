"""The ML-MD cell the LAMMPS Maker builds (no lmp run): disordered by default, tiled on request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from litcl_flows.engines.lammps import LammpsMDInput, write_inputs
from litcl_flows.flows.makers import mlmd_maker
from litcl_flows.flows.spec import load_spec
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
from litcl_flows.schemas.lammps import MDCellRecord
from litcl_flows.structures import ordered_supercells
from litcl_flows.structures.library import load_structure

ANNEALED = {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}
TYPE_MAP = ["Li", "Ti", "Cl"]
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def parent() -> Structure:
    return load_structure("li3ticl6")


@pytest.fixture(scope="module")
def relaxed_80(parent: Structure) -> Structure:
    """The demo's 80-atom ordered cell, its lattice 2 % larger as if relaxed."""
    ordered = ordered_supercells(parent, 80, ANNEALED, n_structures=1)[0].structure
    return Structure(Lattice(1.02 * ordered.lattice.matrix), ordered.species, ordered.frac_coords)


def ti_on_2a_and_4g(cell: Structure, parent: Structure) -> tuple[int, int]:
    """By hand from the CIF: in parent fractions y mod 1/2 is 0 on 2a, 0.168 or 0.332 on 4g."""
    lattice = 1.02 * parent.lattice.matrix
    y = np.mod((cell.cart_coords @ np.linalg.inv(lattice))[:, 1], 0.5)
    ti = np.array([s.specie.symbol == "Ti" for s in cell])
    on_2a = np.minimum(y, 0.5 - y)[ti] < 0.01
    return int(on_2a.sum()), int((~on_2a).sum())


def test_disordered_cell_by_default(
    tmp_path: Path, parent: Structure, relaxed_80: Structure
) -> None:
    maker = LammpsDeepmdMDMaker(
        n_atoms=160, cell_seed=3, parent_structure=parent, site_occupancies=ANNEALED
    )
    assert maker.cell == "disordered"
    cell, params = maker.fresh_input(relaxed_80, "/models/graph.pb", 600.0, TYPE_MAP)
    assert len(cell) == 160
    # 16 2a and 32 4g sites: 0.754 × 16 = 12.06 and 0.123 × 32 = 3.94 → 12 + 4 Ti.
    assert ti_on_2a_and_4g(cell, parent) == (12, 4)
    # Density of the relaxed cell: both are Li3TiCl6, so the volume per atom is the same.
    assert cell.volume / len(cell) == pytest.approx(relaxed_80.volume / len(relaxed_80))
    record = MDCellRecord(**params.cell)
    assert (record.method, record.seed, record.n_atoms, record.n_cells) == ("random", 3, 160, 8)
    achieved = {(o.orbit, o.species): o.achieved_occupancy for o in record.occupancies}
    assert achieved["2a", "Ti"] == 12 / 16 and achieved["4g", "Ti"] == 4 / 32
    # The record survives the parameter file that continued chunks and the summary read.
    write_inputs(cell, tmp_path, params)
    assert LammpsMDInput.load(tmp_path).cell == params.cell


def test_tiled_cell_repeats_the_ordered_cell(relaxed_80: Structure) -> None:
    maker = LammpsDeepmdMDMaker(n_atoms=160, cell="tiled")
    cell, params = maker.fresh_input(relaxed_80, "/models/graph.pb", 600.0, TYPE_MAP)
    record = MDCellRecord(**params.cell)
    assert (record.method, record.seed, record.n_cells, record.n_atoms) == ("tiled", None, 2, 160)
    # Every Ti has a Ti one ordered-cell vector further along the repeated axis.
    axis = int(np.argmax(np.abs(np.diag(record.supercell_matrix))))
    shift = relaxed_80.lattice.matrix[axis] @ np.linalg.inv(cell.lattice.matrix)
    ti = np.array([s.frac_coords for s in cell if s.specie.symbol == "Ti"])
    delta = ti[:, None, :] + shift - ti[None, :, :]
    delta -= np.rint(delta)
    assert (np.linalg.norm(delta @ cell.lattice.matrix, axis=-1).min(axis=1) < 1e-6).all()


def test_as_given_without_n_atoms(relaxed_80: Structure) -> None:
    cell, params = LammpsDeepmdMDMaker().fresh_input(
        relaxed_80, "/models/graph.pb", 600.0, TYPE_MAP
    )
    assert cell == relaxed_80 and params.cell["method"] == "as given"


def test_disordered_needs_the_parent(relaxed_80: Structure) -> None:
    with pytest.raises(ValueError, match="needs parent_structure"):
        LammpsDeepmdMDMaker(n_atoms=160).fresh_input(relaxed_80, "/m.pb", 600.0, TYPE_MAP)
    with pytest.raises(ValueError, match="unknown cell 'sqs'"):
        LammpsDeepmdMDMaker(n_atoms=160, cell="sqs").fresh_input(
            relaxed_80, "/m.pb", 600.0, TYPE_MAP
        )


def test_spec_wires_parent_and_occupancies() -> None:
    spec = load_spec(WORKFLOWS / "li3ticl6_demo.yaml")
    maker = mlmd_maker(spec)
    assert (maker.cell, maker.cell_seed, maker.n_atoms) == ("disordered", 0, 160)
    assert maker.site_occupancies == ANNEALED
    assert maker.parent_structure is not None and not maker.parent_structure.is_ordered
    tiled = mlmd_maker(
        spec.model_copy(update={"mlmd": spec.mlmd.model_copy(update={"cell": "tiled"})})
    )
    assert tiled.cell == "tiled" and tiled.parent_structure is None
