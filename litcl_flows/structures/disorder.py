"""A cation-disordered ML-MD cell: the disordered parent replicated, partial sites filled at random.

Tiling one ordered DFT cell (160 atoms, 12 + 4 Ti) 125 times gives a superlattice: every copy
carries the same Ti arrangement, so the MD samples one configuration of the disorder. Here the
supercell is built from the *disordered parent* instead. Each partially occupied orbit (Wyckoff
position) gets its whole-atom count for the whole cell (charge neutral and nearest the target
occupancy, the rule of the ordered cells), placed on sites of that orbit drawn at random over
the whole cell by a seeded generator; fixed orbits keep their species. The achieved occupancy
of each orbit is then the target to within one atom of the whole cell.

Random, not Metropolis on the Ewald energy at the anneal temperature: point-charge Ewald
energies of Ti arrangements differ by electronvolts (the two lowest distinct orderings of the
160-atom cell at 0.754/0.123: 2.0 eV apart) against kT = 0.05 eV at the 573 K anneal, so such
a run is a quench to the Ewald ground state, not the annealed disorder; and a full Ewald
update of 20,000 atoms per move would be slow besides.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from monty.json import MSONable
from numpy.typing import ArrayLike
from pymatgen.core import Lattice, Structure
from pymatgen.util.coord import lattice_points_in_supercell

from litcl_flows.structures.errors import StructureInputError
from litcl_flows.structures.ordering import (
    SiteOccupancy,
    SiteOrbit,
    _charges,
    _occupancy_report,
    _whole_atom_counts,
    apply_site_occupancies,
    site_orbits,
)
from litcl_flows.structures.supercells import (
    best_supercell_matrix,
    cell_counts,
    perpendicular_widths_A,
)

#: Name of the placement method, as recorded in the ML-MD document.
RANDOM_METHOD = "random"
#: Largest distance of ``cell = M @ parent`` from an integer ``M`` that still counts as a
#: supercell (a relaxation strains a lattice by a few per cent, which moves M by about that).
SUPERCELL_TOLERANCE = 0.15


@dataclass
class DisorderedCell(MSONable):
    """An MD cell of the disordered parent with whole atoms placed at random.

    Attributes
    ----------
    structure
        The cell (sites sorted by electronegativity).
    method
        How partial sites were filled: :data:`RANDOM_METHOD`.
    seed
        Seed of the placement (the same seed gives the same cell).
    supercell_matrix
        Integer matrix applied to the parent cell (rows: new vectors in parent-cell units).
    n_cells
        Parent cells in the MD cell (determinant of ``supercell_matrix``).
    n_atoms
        Atoms in ``structure``.
    occupancies
        Target vs achieved occupancy for every species on every orbit, whole cell.
    widths_A
        Perpendicular widths of the cell, Å.
    lattice_abc_A, lattice_angles_deg
        Lengths of the cell vectors (Å) and angles α, β, γ (degrees).
    """

    structure: Structure
    method: str
    seed: int
    supercell_matrix: list[list[int]]
    n_cells: int
    n_atoms: int
    occupancies: list[SiteOccupancy]
    widths_A: list[float]
    lattice_abc_A: list[float]
    lattice_angles_deg: list[float]

    def summary(self) -> dict[str, Any]:
        """Plain JSON-friendly record of everything but the structure (the ML-MD document)."""
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "structure"}
        record["occupancies"] = [asdict(o) for o in self.occupancies]
        return record


def parent_cell_lattice(cell_matrix: ArrayLike, parent_matrix: ArrayLike) -> np.ndarray:
    """The lattice of one parent cell as it is inside ``cell``, e.g. a relaxed ordered supercell.

    The ordered cell is ``M @ parent`` with integer ``M``; after a relaxation the same ``M``
    (found by rounding) divides the relaxed lattice into the parent cell that has the relaxed
    density and shape, which the MD cell is then built from.

    Parameters
    ----------
    cell_matrix
        Lattice vectors of the supercell as rows, Å (e.g. the relaxed ordered cell).
    parent_matrix
        Lattice vectors of the parent cell as rows, Å (e.g. the disordered CIF's cell).

    Returns
    -------
    numpy.ndarray
        ``(3, 3)`` lattice vectors of one parent cell, ``M⁻¹ @ cell``.

    Raises
    ------
    StructureInputError
        If ``cell`` is not (close to) an integer supercell of the parent cell.
    """
    cell = np.asarray(cell_matrix, dtype=float)
    ratio = cell @ np.linalg.inv(np.asarray(parent_matrix, dtype=float))
    matrix = np.rint(ratio)
    if round(abs(np.linalg.det(matrix))) < 1 or np.abs(ratio - matrix).max() > SUPERCELL_TOLERANCE:
        raise StructureInputError(
            "the cell is not a supercell of the parent cell (cell = M × parent with "
            f"M = {np.round(ratio, 2).tolist()}, not integers)"
        )
    return np.linalg.solve(matrix, cell)


@functools.lru_cache(maxsize=8)
def _widest_matrix(
    lattice: tuple[tuple[float, ...], ...], counts: range, target: float, non_diagonal: bool
) -> tuple[tuple[int, ...], ...]:
    """:func:`best_supercell_matrix`, remembered: one search takes seconds for 1,000 cells and a
    dry run builds the same cell for every temperature."""
    matrix = best_supercell_matrix(np.array(lattice), counts, target, non_diagonal)
    return tuple(tuple(int(v) for v in row) for row in matrix)


def disordered_md_cell(
    parent: Structure,
    n_atoms: int = 20000,
    site_occupancies: Mapping[str, Mapping[str, float]] | None = None,
    seed: int = 0,
    *,
    lattice: ArrayLike | None = None,
    tolerance: float = 0.02,
    oxidation_states: Mapping[str, float] | None = None,
    allow_non_diagonal: bool = True,
) -> DisorderedCell:
    """A cell of about ``n_atoms`` atoms of the disordered parent, partial sites filled at random.

    The supercell of the parent is the widest one (largest smallest perpendicular width) with
    ``n_atoms * (1 ± tolerance)`` atoms, as for :func:`~litcl_flows.structures.md_cell`. Each
    partially occupied orbit receives the whole-atom counts of the whole cell (charge neutral,
    least-squares nearest the targets), on sites of that orbit chosen uniformly at random.

    Parameters
    ----------
    parent
        Structure with partial occupancies (e.g. the built-in ``li3ticl6``).
    n_atoms
        Wanted number of atoms (the study: about 20,000).
    site_occupancies
        Target occupancies replacing the parent's own: site (Wyckoff ``"2a"`` or CIF label) →
        element → occupancy, as for :func:`~litcl_flows.structures.ordered_supercells`.
    seed
        Seed of the placement.
    lattice
        Lattice vectors (rows, Å) of one parent cell to build on, e.g. from
        :func:`parent_cell_lattice` of a relaxed ordered cell; None: the parent's own.
        Fractional coordinates are the parent's (an MD minimisation relaxes them).
    tolerance
        Allowed relative deviation of the atom count from ``n_atoms``.
    oxidation_states
        Element → oxidation state for charge neutrality; by default the parent's own, else
        pymatgen's guess (Li3TiCl6: Li+ Ti3+ Cl-).
    allow_non_diagonal
        Consider every integer supercell matrix, not only diagonal ones.

    Raises
    ------
    StructureInputError
        For bad occupancies (see :func:`~litcl_flows.structures.ordering.apply_site_occupancies`),
        a lattice that is not 3 × 3, no whole number of parent cells in the count window, or
        occupancies no charge-neutral cell can approximate.
    """
    own = site_orbits(parent)
    orbits = apply_site_occupancies(own, site_occupancies or {})
    charges = _charges(parent, own, orbits, oxidation_states or {})
    per_cell = sum(len(o.indices) * sum(o.occupancies.values()) for o in orbits)
    counts_allowed = cell_counts(n_atoms, per_cell, tolerance)
    cell_lattice = parent.lattice.matrix if lattice is None else np.asarray(lattice, dtype=float)
    if cell_lattice.shape != (3, 3):
        raise StructureInputError(f"lattice must be 3 × 3 vectors, not shape {cell_lattice.shape}")
    key = tuple(tuple(round(float(v), 6) for v in row) for row in cell_lattice)
    matrix = np.array(_widest_matrix(key, counts_allowed, n_atoms / per_cell, allow_non_diagonal))
    n_cells = round(abs(np.linalg.det(matrix)))
    counts = _whole_atom_counts(orbits, n_cells, charges)
    structure = _random_fill(parent, orbits, counts, matrix, cell_lattice, seed)
    return DisorderedCell(
        structure=structure,
        method=RANDOM_METHOD,
        seed=seed,
        supercell_matrix=matrix.tolist(),
        n_cells=n_cells,
        n_atoms=len(structure),
        occupancies=_occupancy_report(orbits, n_cells, counts),
        widths_A=perpendicular_widths_A(structure.lattice.matrix).tolist(),
        lattice_abc_A=list(structure.lattice.abc),
        lattice_angles_deg=list(structure.lattice.angles),
    )


def _random_fill(
    parent: Structure,
    orbits: list[SiteOrbit],
    counts: Mapping[tuple[int, str], int],
    matrix: np.ndarray,
    cell_lattice: np.ndarray,
    seed: int,
) -> Structure:
    """The supercell ``matrix @ cell_lattice``, each orbit's atoms placed at random, sorted.

    Fixed orbits keep their species on every site; a partially occupied orbit gets its
    ``counts`` on a seeded random permutation of its sites, the rest left vacant.
    """
    points = lattice_points_in_supercell(matrix)  # one row per parent cell, supercell basis
    to_supercell = np.linalg.inv(matrix)
    rng = np.random.default_rng(seed)
    species: list[str] = []
    coords: list[np.ndarray] = []
    for o, orbit in enumerate(orbits):
        base = parent.frac_coords[list(orbit.indices)] @ to_supercell
        sites = np.mod((base[:, None, :] + points[None, :, :]).reshape(-1, 3), 1.0)
        present = [sp for sp, occ in orbit.occupancies.items() if occ > 0]
        if orbit.is_fixed:
            placed: list[str | None] = [present[0]] * len(sites)
        else:
            placed = [sp for sp in present for _ in range(counts[(o, sp)])]
            placed += [None] * (len(sites) - len(placed))  # vacancies
            placed = [placed[k] for k in rng.permutation(len(sites))]
        keep = [k for k, sp in enumerate(placed) if sp is not None]
        species += [placed[k] for k in keep]
        coords.append(sites[keep])
    return Structure(
        Lattice(matrix @ cell_lattice), species, np.concatenate(coords)
    ).get_sorted_structure()
