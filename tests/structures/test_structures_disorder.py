"""The cation-disordered ML-MD cell: hand counts, composition, no superlattice, seeds, density."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pymatgen.core import Structure

from litcl_flows.engines.lammps import replicate_to_atoms
from litcl_flows.structures import StructureInputError, ordered_supercells
from litcl_flows.structures.disorder import disordered_md_cell, parent_cell_lattice
from litcl_flows.structures.library import load_structure

ANNEALED = {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}
WHOLE_160 = {"2a": {"Ti": 0.75}, "4g": {"Ti": 0.125}}  # what 12 + 4 Ti give in 160 atoms


@pytest.fixture(scope="module")
def parent() -> Structure:
    return load_structure("li3ticl6")


def ti_sites(cell: Structure, parent_lattice: np.ndarray) -> tuple[int, int]:
    """Ti on 2a and on 4g, told apart by hand from the CIF's coordinates.

    In parent-cell fractions 2a is (0, 0, 0) and (1/2, 1/2, 0) (C-centring); 4g is
    (0, ±0.332, 0) and (1/2, 1/2 ± 0.332, 0). So y modulo 1/2 is 0 on 2a and 0.168 or 0.332
    on 4g.
    """
    frac = cell.cart_coords @ np.linalg.inv(parent_lattice)
    ti = np.array([site.specie.symbol == "Ti" for site in cell])
    y = np.mod(frac[ti, 1], 0.5)
    on_2a = np.minimum(y, 0.5 - y) < 0.01
    return int(on_2a.sum()), int((~on_2a).sum())


def ti_fraction_repeated(cell: Structure, shift_cart: np.ndarray) -> float:
    """Fraction of Ti whose position shifted by ``shift_cart`` also holds a Ti (periodically)."""
    frac = np.array([s.frac_coords for s in cell if s.specie.symbol == "Ti"])
    shifted = frac + shift_cart @ np.linalg.inv(cell.lattice.matrix)
    delta = shifted[:, None, :] - frac[None, :, :]
    delta -= np.rint(delta)
    distance = np.linalg.norm(delta @ cell.lattice.matrix, axis=-1)
    return float(np.mean(distance.min(axis=1) < 0.01))


def test_exact_counts_of_a_20_cell_block(parent: Structure) -> None:
    # 20 cells: 40 2a and 80 4g sites; by hand 0.75 × 40 = 30 and 0.125 × 80 = 10 Ti.
    cell = disordered_md_cell(parent, 400, WHOLE_160, seed=1, tolerance=0)
    assert cell.n_cells == 20 and cell.n_atoms == len(cell.structure) == 400
    assert ti_sites(cell.structure, parent.lattice.matrix) == (30, 10)
    record = {(o.orbit, o.species): o for o in cell.occupancies}
    assert (record["2a", "Ti"].n_atoms, record["2a", "Ti"].n_sites) == (30, 40)
    assert (record["4g", "Ti"].n_atoms, record["4g", "Ti"].n_sites) == (10, 80)
    assert record["4g", "Ti"].achieved_occupancy == 0.125


def test_20000_atoms_at_the_annealed_occupancy(parent: Structure) -> None:
    start = time.perf_counter()
    cell = disordered_md_cell(
        parent, 20000, ANNEALED, seed=0, tolerance=0, allow_non_diagonal=False
    )
    elapsed_s = time.perf_counter() - start
    # 1000 cells: 2000 2a and 4000 4g sites; 0.754 × 2000 = 1508 and 0.123 × 4000 = 492 exactly.
    assert cell.n_cells == 1000 and cell.n_atoms == 20000
    assert ti_sites(cell.structure, parent.lattice.matrix) == (1508, 492)
    # Li3TiCl6 × 2 per cell × 1000 cells; charges Li+ Ti3+ Cl- sum to zero.
    composition = cell.structure.composition
    assert composition.as_dict() == {"Li": 6000, "Ti": 2000, "Cl": 12000}
    assert 6000 * 1 + 2000 * 3 - 12000 == 0
    assert elapsed_s < 10  # measured 0.6 s on two shared cores
    # Uniformly random placement, checked against independent mixing: within 4 Å of a Ti
    # (one metal layer, a triangular net of 2a + 4g sites) a 2a site has 6 4g neighbours and
    # a 4g site 3 2a + 3 4g, so the mean Ti neighbours of a Ti is
    # (1508 · 6 · 0.123 + 492 · (3 · 0.754 + 3 · 491/3999)) / 2000 = 1.204.
    titanium = cell.structure.copy()
    titanium.remove_species(["Li", "Cl"])
    centres, _, _, _ = titanium.get_neighbor_list(4.0)
    assert len(centres) / 2000 == pytest.approx(1.204, abs=0.05)


def test_composition_is_the_parents_times_cells(parent: Structure) -> None:
    cell = disordered_md_cell(parent, 2000, ANNEALED, seed=5)
    n = cell.n_cells
    assert 1960 <= cell.n_atoms <= 2040
    assert cell.structure.composition.as_dict() == {"Li": 6 * n, "Ti": 2 * n, "Cl": 12 * n}
    assert round(abs(np.linalg.det(cell.supercell_matrix))) == n


def test_not_a_superlattice_of_the_ordered_cell(parent: Structure) -> None:
    # The study's DFT cell is 2×2×2 conventional cells; its vectors 2a, 2b, 2c are
    # translations of any supercell of the parent, and a tiled cell repeats its Ti under them.
    ordered = ordered_supercells(parent, 160, ANNEALED, n_structures=1, seed=0)[0].structure
    tiled = replicate_to_atoms(ordered, 1280)
    disordered = disordered_md_cell(parent, 1280, ANNEALED, seed=0).structure
    for vector in 2 * parent.lattice.matrix:
        assert ti_fraction_repeated(tiled, vector) == 1.0
        # Random placement: about 2 × 0.754² + 4 × 0.123² over 2 Ti per cell, i.e. 60 %.
        assert ti_fraction_repeated(disordered, vector) < 0.8


def test_same_seed_same_cell_other_seed_other_cell(parent: Structure) -> None:
    first = disordered_md_cell(parent, 640, ANNEALED, seed=7).structure
    again = disordered_md_cell(parent, 640, ANNEALED, seed=7).structure
    other = disordered_md_cell(parent, 640, ANNEALED, seed=8).structure
    assert [s.specie for s in first] == [s.specie for s in again]
    assert np.array_equal(first.frac_coords, again.frac_coords)
    assert first.composition == other.composition
    ti = [i for i, s in enumerate(first) if s.specie.symbol == "Ti"]
    assert not np.allclose(first.frac_coords[ti], other.frac_coords[ti])


def test_cell_takes_the_given_parent_lattice(parent: Structure) -> None:
    # A relaxed 2×2×2 ordered cell strained by 3 % along a and sheared a little.
    strain = np.array([[1.03, 0.0, 0.01], [0.0, 0.99, 0.0], [0.0, 0.0, 1.01]])
    relaxed_parent = parent.lattice.matrix @ strain
    relaxed_ordered = 2 * relaxed_parent
    lattice = parent_cell_lattice(relaxed_ordered, parent.lattice.matrix)
    assert np.allclose(lattice, relaxed_parent)
    cell = disordered_md_cell(parent, 640, ANNEALED, seed=0, lattice=lattice)
    # Same volume per parent cell as the relaxed cell: |det(2 L)| / 8.
    volume_per_cell = abs(np.linalg.det(relaxed_ordered)) / 8
    assert cell.structure.volume / cell.n_cells == pytest.approx(volume_per_cell)


def test_parent_cell_lattice_rejects_a_cell_that_is_no_supercell(parent: Structure) -> None:
    with pytest.raises(StructureInputError, match="not a supercell of the parent cell"):
        parent_cell_lattice(1.5 * parent.lattice.matrix, parent.lattice.matrix)


def test_bad_inputs_give_one_line(parent: Structure) -> None:
    with pytest.raises(StructureInputError, match="no whole number of 20-atom cells"):
        disordered_md_cell(parent, 30, ANNEALED, tolerance=0)
    with pytest.raises(StructureInputError, match="no site '3b'"):
        disordered_md_cell(parent, 400, {"3b": {"Ti": 0.5}})
