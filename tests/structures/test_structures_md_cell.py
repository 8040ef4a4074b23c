"""The ML-MD cell: widest replication near the requested size, checked by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pymatgen.core import Structure

from litcl_flows.structures import StructureInputError, best_supercell_matrix, md_cell
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy


@pytest.fixture(scope="module")
def cell_20() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


@pytest.fixture(scope="module")
def cell_160(cell_20: Structure) -> Structure:
    return cell_20.make_supercell([2, 2, 2], in_place=False)


def widths(matrix: np.ndarray) -> np.ndarray:
    """Face-to-face distances V / |a_j × a_k|, written out independently of the package."""
    a, b, c = matrix
    volume = abs(np.dot(a, np.cross(b, c)))
    return volume / np.linalg.norm([np.cross(b, c), np.cross(c, a), np.cross(a, b)], axis=1)


def test_md_cell_of_the_160_atom_cell(cell_160: Structure) -> None:
    result = md_cell(cell_160, n_atoms=20000)
    assert 19600 <= result.n_atoms <= 20400  # ±2 %
    assert result.n_atoms == len(result.structure) == result.n_copies * 160
    assert result.n_copies == round(abs(np.linalg.det(result.supercell_matrix)))
    assert result.widths_A == pytest.approx(widths(result.structure.lattice.matrix))
    assert result.structure.composition.reduced_formula == "Li3TiCl6"
    # A 20,000-atom cube of this density (20.5 Å^3/atom) is 74.3 Å wide: close to it.
    assert result.min_width_A > 72.0

    # Brute force over diagonal multiples in the same atom-count window.
    lattice = cell_160.lattice.matrix
    best_diagonal = max(
        widths(np.diag(n) @ lattice).min()
        for n in itertools.product(range(1, 20), repeat=3)
        if 19600 <= 160 * np.prod(n) <= 20400
    )
    assert result.min_width_A >= best_diagonal - 1e-9
    assert best_diagonal == pytest.approx(65.28)  # 6×3×6 or 6×3×7 conventional-cell multiples


def test_diagonal_only_is_the_best_diagonal(cell_160: Structure) -> None:
    result = md_cell(cell_160, n_atoms=20000, allow_non_diagonal=False)
    matrix = np.array(result.supercell_matrix)
    assert np.count_nonzero(matrix - np.diag(np.diag(matrix))) == 0
    assert result.min_width_A == pytest.approx(65.28)


def test_no_integer_matrix_with_small_entries_is_wider(cell_20: Structure) -> None:
    # Every 3×3 integer matrix with entries in [-2, 2] and 8 cells (160 atoms), by brute force.
    lattice = cell_20.lattice.matrix
    entries = np.array(list(itertools.product(range(-2, 3), repeat=9)), dtype=np.int8)
    matrices = entries.reshape(-1, 3, 3).astype(float)
    matrices = matrices[np.isclose(np.abs(np.linalg.det(matrices)), 8)]
    cells = matrices @ lattice
    volume = np.abs(np.linalg.det(cells))
    faces = np.stack(
        [np.cross(cells[:, (i + 1) % 3], cells[:, (i + 2) % 3]) for i in range(3)], axis=1
    )
    brute_force = (volume[:, None] / np.linalg.norm(faces, axis=2)).min(axis=1).max()

    result = md_cell(cell_20, n_atoms=160, tolerance=0.0)
    assert result.n_atoms == 160
    assert result.min_width_A >= brute_force - 1e-9
    assert result.min_width_A == pytest.approx(brute_force)
    # The diagonal 2×2×2 is 11.9 Å wide; the oblique β = 110° lattice allows much more.
    assert result.min_width_A > 14.0


def test_best_supercell_matrix_is_right_handed_and_oriented(cell_20: Structure) -> None:
    matrix = best_supercell_matrix(cell_20.lattice.matrix, [16], 16)
    assert round(np.linalg.det(matrix)) == 16
    assert all(matrix[i, i] > 0 for i in range(3))


def test_md_cell_bad_input(cell_160: Structure) -> None:
    with pytest.raises(StructureInputError, match="no whole number of 160-atom cells"):
        md_cell(cell_160, n_atoms=100)
    with pytest.raises(StructureInputError, match="ordered structure"):
        md_cell(load_structure("li3ticl6"), n_atoms=20000)
