"""Supercell shapes: the most compact integer supercell matrix, and the ML-MD cell.

"Compact" means the largest smallest perpendicular width (distance between opposite faces),
which is what keeps an atom away from its own periodic images. pymatgen's
``SupercellTransformation.from_boundary_distance`` and ``CubicSupercellTransformation`` grow a
cell until a minimum length is reached, and ASE's ``find_optimal_cell_shape`` minimises the
deviation from a cube; none answers "the widest cell with about N atoms", so the search below
is written here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from monty.json import MSONable
from numpy.typing import ArrayLike
from pymatgen.core import Structure

from litcl_flows.structures.errors import StructureInputError

#: Widths closer than this (Å) count as equal when choosing between supercell matrices.
WIDTH_TOLERANCE_A = 1e-6


def perpendicular_widths_A(matrix: ArrayLike) -> np.ndarray:
    """Distances between opposite faces of a cell, in Å.

    Parameters
    ----------
    matrix
        Lattice vectors as rows, shape ``(3, 3)`` or a stack ``(..., 3, 3)``.

    Returns
    -------
    numpy.ndarray
        Widths along the normals of the faces spanned by vectors (b, c), (c, a), (a, b).
    """
    # The columns of the inverse are the reciprocal vectors (without 2π); |b*_i| = 1/width_i.
    return 1.0 / np.linalg.norm(np.linalg.inv(np.asarray(matrix, dtype=float)), axis=-2)


def _diagonal_matrices(counts: Iterable[int]) -> np.ndarray:
    """All diagonal integer matrices whose determinant is one of ``counts``."""
    diagonals = [
        (n1, n2, count // (n1 * n2))
        for count in counts
        for n1 in range(1, count + 1)
        if count % n1 == 0
        for n2 in range(1, count // n1 + 1)
        if (count // n1) % n2 == 0
    ]
    return np.array([np.diag(d) for d in diagonals], dtype=int)


def _matrices_with_min_width(
    lattice_matrix: np.ndarray, count_lo: int, count_hi: int, width_A: float
) -> np.ndarray:
    """Every integer matrix with ``count_lo <= det <= count_hi`` whose cell is ``width_A`` wide.

    A cell with all widths >= w and volume <= V has every vector between w and V / w² long
    (a width never exceeds the vector it belongs to, and |a_k| <= |a_i × a_k| / w_i <= V / w²),
    so enumerating the lattice vectors in that shell and combining them in triples is exhaustive.
    Vectors are taken up to sign; the determinant sign is fixed afterwards.
    """
    volume = abs(np.linalg.det(lattice_matrix))
    volume_max = count_hi * volume
    length_max = volume_max / width_A**2
    bounds = np.floor(length_max * np.linalg.norm(np.linalg.inv(lattice_matrix), axis=0))
    axes = [np.arange(-b, b + 1, dtype=int) for b in bounds.astype(int)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    # Keep one of each ±n pair: the first non-zero component positive.
    first = grid[np.arange(len(grid)), np.argmax(grid != 0, axis=1)]
    grid = grid[first > 0]
    lengths = np.linalg.norm(grid @ lattice_matrix, axis=1)
    ints = grid[(lengths >= width_A - WIDTH_TOLERANCE_A) & (lengths <= length_max)]
    vectors = ints @ lattice_matrix
    cross_norms = np.linalg.norm(np.cross(vectors[:, None, :], vectors[None, :, :]), axis=-1)
    found: list[np.ndarray] = []
    n_vectors = len(ints)
    all_k = np.arange(n_vectors)
    for i in range(n_vectors - 2):
        js = np.arange(i + 1, n_vectors)
        js = js[cross_norms[i, js] <= volume_max / width_A]
        if not js.size:
            continue
        dets = np.cross(ints[i], ints[js]) @ ints.T  # (len(js), n_vectors) integers
        in_window = (np.abs(dets) >= count_lo) & (np.abs(dets) <= count_hi)
        jj, kk = np.nonzero(in_window & (all_k[None, :] > js[:, None]))
        j, k = js[jj], all_k[kk]
        largest_face = np.maximum(
            np.maximum(cross_norms[i, j], cross_norms[i, k]), cross_norms[j, k]
        )
        wide = np.abs(dets[jj, kk]) * volume / largest_face >= width_A - WIDTH_TOLERANCE_A
        for jw, kw in zip(j[wide], k[wide], strict=True):
            matrix = np.array([ints[i], ints[jw], ints[kw]])
            if np.linalg.det(matrix) < 0:
                matrix[2] *= -1
            found.append(matrix)
    return np.array(found, dtype=int).reshape(-1, 3, 3)


def _oriented(matrix: np.ndarray, lattice_matrix: np.ndarray) -> np.ndarray:
    """The same supercell with rows permuted and signed so row i points along lattice vector i."""
    old = lattice_matrix / np.linalg.norm(lattice_matrix, axis=1)[:, None]
    best, best_score = matrix, -np.inf
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            candidate = matrix[list(perm)] * np.array(signs)[:, None]
            if np.linalg.det(candidate) <= 0:
                continue
            new = candidate @ lattice_matrix
            score = float(np.sum(np.einsum("ij,ij->i", new, old) / np.linalg.norm(new, axis=1)))
            if score > best_score + 1e-9:
                best, best_score = candidate, score
    return best


def best_supercell_matrix(
    lattice_matrix: ArrayLike,
    counts: Iterable[int],
    target_count: float,
    allow_non_diagonal: bool = True,
) -> np.ndarray:
    """The integer supercell matrix with the largest smallest perpendicular width.

    Parameters
    ----------
    lattice_matrix
        Lattice vectors of the cell to replicate, as rows (Å).
    counts
        Allowed numbers of cells in the supercell (determinants).
    target_count
        Among equally wide supercells, the one whose cell count is nearest to this wins; then
        the one with fewest off-diagonal entries.
    allow_non_diagonal
        Search all integer matrices (exhaustive, see :func:`_matrices_with_min_width`), not only
        diagonal ones. Non-diagonal cells are wider for oblique lattices (monoclinic β = 110°).

    Returns
    -------
    numpy.ndarray
        ``(3, 3)`` integer matrix ``P``; the supercell vectors are the rows of ``P @ lattice``.
    """
    lattice = np.asarray(lattice_matrix, dtype=float)
    counts = sorted(set(counts))
    candidates = _diagonal_matrices(counts)
    min_widths = perpendicular_widths_A(candidates @ lattice).min(axis=1)
    if allow_non_diagonal:
        # Search from near the ideal cube down to the best diagonal width: the first width at
        # which any cell exists bounds the optimum from below, so that search is exhaustive,
        # and a high starting width keeps the shell of candidate vectors thin (fast).
        floor_A = float(min_widths.max())
        cube_A = (counts[-1] * abs(np.linalg.det(lattice))) ** (1 / 3)
        width_A = max(floor_A, 0.95 * cube_A)
        while True:
            general = _matrices_with_min_width(lattice, counts[0], counts[-1], width_A)
            if len(general) or width_A <= floor_A:
                break
            width_A = max(floor_A, width_A - 0.05 * cube_A)
        candidates = np.concatenate([candidates, general])
        min_widths = perpendicular_widths_A(candidates @ lattice).min(axis=1)
    best = min_widths >= min_widths.max() - WIDTH_TOLERANCE_A
    candidates = candidates[best]
    determinants = np.rint(np.abs(np.linalg.det(candidates)))
    off_diagonal = np.count_nonzero(candidates * (1 - np.eye(3, dtype=int)), axis=(1, 2))
    order = np.lexsort(
        (
            *candidates.reshape(len(candidates), -1).T[::-1],
            off_diagonal,
            np.abs(determinants - target_count),
        )
    )
    return _oriented(candidates[order[0]], lattice)


@dataclass
class MDCell(MSONable):
    """An ordered cell replicated for ML-MD.

    Attributes
    ----------
    structure
        The replicated structure.
    supercell_matrix
        Integer matrix applied to the input cell (rows: new vectors in input-cell units).
    n_atoms
        Atoms in ``structure``.
    n_copies
        Copies of the input cell (determinant of ``supercell_matrix``).
    widths_A
        Perpendicular widths of the cell, Å.
    lattice_abc_A
        Lengths of the cell vectors, Å.
    lattice_angles_deg
        Cell angles α, β, γ, degrees.
    """

    structure: Structure
    supercell_matrix: list[list[int]]
    n_atoms: int
    n_copies: int
    widths_A: list[float]
    lattice_abc_A: list[float]
    lattice_angles_deg: list[float]

    @property
    def min_width_A(self) -> float:
        """The smallest perpendicular width, Å (half of it bounds a minimum-image cutoff)."""
        return min(self.widths_A)


def cell_counts(n_atoms: int, atoms_per_cell: float, tolerance: float) -> range:
    """Whole numbers of cells whose atom count lies within ``n_atoms × (1 ± tolerance)``.

    Raises
    ------
    StructureInputError
        If there is none.
    """
    lo = max(1, math.ceil(n_atoms * (1 - tolerance) / atoms_per_cell))
    hi = math.floor(n_atoms * (1 + tolerance) / atoms_per_cell)
    if hi < lo:
        raise StructureInputError(
            f"no whole number of {atoms_per_cell:g}-atom cells gives {n_atoms} atoms "
            f"within ±{tolerance:.0%}"
        )
    return range(lo, hi + 1)


def md_cell(
    structure: Structure,
    n_atoms: int = 20000,
    tolerance: float = 0.02,
    allow_non_diagonal: bool = True,
) -> MDCell:
    """Replicate an ordered cell to about ``n_atoms``, as wide (close to cubic) as possible.

    Among all replications with ``n_atoms * (1 ± tolerance)`` atoms, the one whose smallest
    perpendicular width is largest wins; ties go to the count nearest ``n_atoms``.

    Parameters
    ----------
    structure
        Ordered cell, e.g. a result of :func:`~litcl_flows.structures.ordered_supercells`.
    n_atoms
        Wanted number of atoms (the study: about 20,000).
    tolerance
        Allowed relative deviation of the atom count from ``n_atoms``.
    allow_non_diagonal
        Consider every integer supercell matrix, not only diagonal ones.

    Raises
    ------
    StructureInputError
        If the structure is disordered or no whole number of copies fits the count window.
    """
    if not structure.is_ordered:
        raise StructureInputError(
            "md_cell needs an ordered structure (whole atoms on every site); "
            "order it first with ordered_supercells"
        )
    per_cell = len(structure)
    matrix = best_supercell_matrix(
        structure.lattice.matrix,
        cell_counts(n_atoms, per_cell, tolerance),
        n_atoms / per_cell,
        allow_non_diagonal,
    )
    supercell = structure.make_supercell(matrix, in_place=False)
    return MDCell(
        structure=supercell,
        supercell_matrix=matrix.tolist(),
        n_atoms=len(supercell),
        n_copies=round(abs(np.linalg.det(matrix))),
        widths_A=perpendicular_widths_A(supercell.lattice.matrix).tolist(),
        lattice_abc_A=list(supercell.lattice.abc),
        lattice_angles_deg=list(supercell.lattice.angles),
    )
