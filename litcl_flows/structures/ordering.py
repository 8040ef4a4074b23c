"""Ordered supercells of a structure with partially occupied sites (e.g. Ti on 2a/4g).

The pipeline: crystallographic orbits (Wyckoff positions) of the disordered cell → target
occupancies per orbit → supercell matrix → whole numbers of each species per orbit, charge
neutral and nearest the targets → arrangements ranked by Ewald energy → the lowest
symmetry-distinct ones. Small problems are enumerated; large ones (96 candidate Ti sites in
320 atoms) are sampled from many random starts, each relaxed by steepest-descent swaps.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import spglib
from monty.json import MSONable
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Element, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from litcl_flows.structures.errors import StructureInputError
from litcl_flows.structures.supercells import best_supercell_matrix

#: Symmetry tolerance (Å) for Wyckoff orbits, supercell symmetry and reported space groups.
SYMPREC = 0.01
#: Occupancies may exceed 1 on a site by this much (rounding in CIFs).
OCCUPANCY_TOLERANCE = 1e-3
#: Energies closer than this (eV/atom) are candidates for being symmetry duplicates.
ENERGY_TOLERANCE_EV_PER_ATOM = 1e-6
#: At most this many (orbit, species) pairs may be partially occupied: the whole-atom counts
#: are found by trying up to 4 values per pair, 4**12 ≈ 1.7e7 combinations.
MAX_PARTIAL_PAIRS = 12
#: Largest ordered supercell (atoms). The Ewald matrix of all sites is N × N, the symmetry
#: permutations and each steepest descent cost about N³, so the work grows as N² in memory and
#: N³ in time. Li3TiCl6 on 2 cores (``--n 1 --samples 50``): 1,280 atoms 8 s and 0.4 GB,
#: 2,560 atoms 44 s and 0.9 GB, 5,120 atoms 6 min and 2.7 GB; the default 5,000 samples add
#: about 0.2 s each at 2,560 atoms (18 min in all). Larger requests are refused before any
#: cell is built (10,000,000 atoms otherwise ran past a minute and 2.8 GB without a result).
MAX_ORDERED_ATOMS = 2560


@dataclass
class SiteOrbit:
    """A crystallographic orbit of the input cell and what occupies it.

    Attributes
    ----------
    wyckoff
        Wyckoff symbol with the space-group multiplicity, e.g. ``"2a"``.
    site_labels
        CIF labels of its sites (e.g. ``("Ti1",)``).
    indices
        Indices of its sites in the input structure.
    occupancies
        Element symbol → occupancy (fraction of the orbit's sites it fills).
    """

    wyckoff: str
    site_labels: tuple[str, ...]
    indices: tuple[int, ...]
    occupancies: dict[str, float]

    @property
    def is_fixed(self) -> bool:
        """Whether one species fills every site (nothing to order)."""
        values = [occ for occ in self.occupancies.values() if occ > 0]
        return len(values) == 1 and abs(values[0] - 1) < OCCUPANCY_TOLERANCE

    @property
    def name(self) -> str:
        """Wyckoff symbol and labels, for messages: ``2a (Ti1)``."""
        return f"{self.wyckoff} ({', '.join(self.site_labels)})"


@dataclass
class SiteOccupancy(MSONable):
    """Target and achieved occupancy of one species on one orbit of a supercell."""

    orbit: str
    site_labels: list[str]
    species: str
    n_sites: int
    n_atoms: int
    target_occupancy: float
    achieved_occupancy: float


@dataclass
class OrderedSupercell(MSONable):
    """One ordered supercell; JSON-friendly through ``as_dict()`` / ``from_dict()``.

    Attributes
    ----------
    structure
        The ordered structure (no oxidation states; sites sorted by electronegativity).
    formula
        Full formula, e.g. ``"Li48 Ti16 Cl96"``.
    supercell_matrix
        Integer matrix applied to the input cell.
    occupancies
        Target vs achieved occupancy for every species on every orbit.
    ewald_energy_eV_per_atom
        Ewald energy with the oxidation states used for ranking (eV/atom).
    space_group, space_group_number
        Of the ordered structure (symprec :data:`SYMPREC`).
    lattice_abc_A, lattice_angles_deg
        Cell lengths (Å) and angles α, β, γ (degrees).
    rank
        1 for the lowest Ewald energy.
    seed
        Seed of the random sampling that produced it.
    """

    structure: Structure
    formula: str
    supercell_matrix: list[list[int]]
    occupancies: list[SiteOccupancy]
    ewald_energy_eV_per_atom: float
    space_group: str
    space_group_number: int
    lattice_abc_A: list[float]
    lattice_angles_deg: list[float]
    rank: int
    seed: int

    def summary(self) -> dict[str, Any]:
        """Plain JSON-friendly record of everything but the structure (tables, ``--json``)."""
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "structure"}
        record["occupancies"] = [asdict(o) for o in self.occupancies]
        return record


def check_ordered_size(n_atoms: int, name: str = "n_atoms") -> None:
    """Refuse an ordered supercell larger than :data:`MAX_ORDERED_ATOMS`.

    Parameters
    ----------
    n_atoms
        Requested atoms in the ordered supercell.
    name
        What the caller calls the size, for the message (``"--atoms"`` on the command line).

    Raises
    ------
    StructureInputError
        One line naming the size and the limit.
    """
    if n_atoms > MAX_ORDERED_ATOMS:
        raise StructureInputError(
            f"{name} {n_atoms}: at most {MAX_ORDERED_ATOMS} atoms in an ordered supercell (the "
            f"Ewald ordering grows as N² in memory and N³ in time; {MAX_ORDERED_ATOMS} atoms "
            "take about a minute with 50 samples)"
        )


def parse_occupancy_spec(text: str) -> dict[str, dict[str, float]]:
    """Parse ``"Ti:2a=0.754,Ti:4g=0.123"`` into ``{"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}``.

    A site is a Wyckoff symbol (``2a``) or a CIF site label (``Ti1``).
    """
    parsed: dict[str, dict[str, float]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            key, value = item.split("=")
            species, site = (part.strip() for part in key.split(":"))
            parsed.setdefault(site, {})[species] = float(value)
        except ValueError:
            raise StructureInputError(
                f"bad occupancy {item!r}: expected SPECIES:SITE=VALUE, e.g. Ti:2a=0.754"
            ) from None
    return parsed


def site_orbits(structure: Structure) -> list[SiteOrbit]:
    """The crystallographic orbits of a (possibly disordered) structure.

    pymatgen itself refuses sites whose occupancies sum above 1 (``load_structure`` turns that
    into a :class:`StructureInputError`).
    """
    dataset = SpacegroupAnalyzer(structure, symprec=SYMPREC).get_symmetry_dataset()
    # Multiplicities refer to the conventional cell, whatever cell the input is.
    cells_per_conventional = abs(np.linalg.det(dataset.std_lattice)) / structure.volume
    orbits = []
    for representative in dict.fromkeys(dataset.equivalent_atoms):
        indices = np.flatnonzero(dataset.equivalent_atoms == representative)
        multiplicity = round(len(indices) * cells_per_conventional)
        species = structure[int(representative)].species
        orbits.append(
            SiteOrbit(
                wyckoff=f"{multiplicity}{dataset.wyckoffs[representative]}",
                site_labels=tuple(dict.fromkeys(structure[int(i)].label for i in indices)),
                indices=tuple(int(i) for i in indices),
                occupancies={sp.symbol: float(occ) for sp, occ in species.items()},
            )
        )
    return orbits


def apply_site_occupancies(
    orbits: Sequence[SiteOrbit], site_occupancies: Mapping[str, Mapping[str, float]]
) -> list[SiteOrbit]:
    """Orbits with some occupancies replaced; other species on those orbits are kept.

    Parameters
    ----------
    orbits
        From :func:`site_orbits`.
    site_occupancies
        Site (Wyckoff symbol such as ``"2a"`` or CIF label such as ``"Ti1"``) → element →
        occupancy.

    Raises
    ------
    StructureInputError
        For an unknown or ambiguous site, an unknown element, an occupancy outside [0, 1], or
        occupancies summing above 1 on a site.
    """
    updated = [SiteOrbit(o.wyckoff, o.site_labels, o.indices, dict(o.occupancies)) for o in orbits]
    for site, species_occupancies in site_occupancies.items():
        matches = [o for o in updated if site in (o.wyckoff, *o.site_labels)]
        if len(matches) != 1:
            known = ", ".join(o.name for o in updated)
            problem = "no" if not matches else "more than one"
            raise StructureInputError(f"{problem} site {site!r} in the structure (sites: {known})")
        orbit = matches[0]
        for species, occupancy in species_occupancies.items():
            if species not in {el.symbol for el in Element}:
                raise StructureInputError(f"unknown element {species!r} in the occupancy of {site}")
            if not 0 <= occupancy <= 1:
                raise StructureInputError(
                    f"occupancy of {species} on {site} is {occupancy}, not between 0 and 1"
                )
            orbit.occupancies[species] = float(occupancy)
        total = sum(orbit.occupancies.values())
        if total > 1 + OCCUPANCY_TOLERANCE:
            raise StructureInputError(f"occupancies on site {orbit.name} sum to {total:.3f} > 1")
    return updated


def _amounts(orbits: Sequence[SiteOrbit]) -> dict[str, float]:
    """Atoms of each element per input cell."""
    amounts: dict[str, float] = {}
    for orbit in orbits:
        for sp, occ in orbit.occupancies.items():
            if occ > 0:
                amounts[sp] = amounts.get(sp, 0.0) + len(orbit.indices) * occ
    return amounts


def _charges(
    structure: Structure,
    orbits: Sequence[SiteOrbit],
    targets: Sequence[SiteOrbit],
    oxidation_states: Mapping[str, float],
) -> dict[str, float]:
    """Oxidation state of each element: given, else from the structure, else guessed.

    The guess uses the structure's own content (``orbits``), not the ``targets``, so that an
    impossible target is reported as such rather than as an unguessable composition.
    """
    charges: dict[str, float] = {}
    for site in structure:
        for sp in site.species:
            if getattr(sp, "oxi_state", None) is not None:
                charges.setdefault(sp.symbol, float(sp.oxi_state))
    charges.update({el: float(q) for el, q in oxidation_states.items()})
    missing = {sp for o in targets for sp, occ in o.occupancies.items() if occ > 0} - set(charges)
    if missing:
        amounts = _amounts(orbits)
        for sp, amount in _amounts(targets).items():
            amounts.setdefault(sp, amount)  # species only the targets bring in
        # pymatgen's guess needs whole numbers; the rounded cell content has them.
        composition = Composition({sp: max(1, round(a)) for sp, a in amounts.items()})
        guesses = composition.oxi_state_guesses()
        if not guesses:
            raise StructureInputError(
                f"cannot guess oxidation states for {composition.reduced_formula}; "
                "give them, e.g. Li=1,Ti=3,Cl=-1"
            )
        charges.update({sp: float(guesses[0][sp]) for sp in missing})
    return charges


def _whole_atom_counts(
    orbits: Sequence[SiteOrbit], n_cells: int, charges: Mapping[str, float]
) -> dict[tuple[int, str], int]:
    """Atoms of each species on each partially occupied orbit of an ``n_cells`` supercell.

    The charge-neutral choice nearest the target occupancies (least squares in occupancy),
    trying for each (orbit, species) the whole numbers within one of its target count.
    """
    pairs = [
        (o, sp)
        for o, orbit in enumerate(orbits)
        if not orbit.is_fixed
        for sp, occ in orbit.occupancies.items()
        if occ > 0
    ]
    if len(pairs) > MAX_PARTIAL_PAIRS:
        raise StructureInputError(
            f"{len(pairs)} partially occupied (site, species) pairs; at most {MAX_PARTIAL_PAIRS}"
        )
    n_sites = np.array([len(orbits[o].indices) * n_cells for o, _ in pairs], dtype=float)
    targets = np.array([orbits[o].occupancies[sp] for o, sp in pairs]) * n_sites
    q = np.array([charges[sp] for _, sp in pairs])
    fixed_charge = sum(
        charges[sp] * len(orbit.indices) * n_cells
        for orbit in orbits
        if orbit.is_fixed
        for sp, occ in orbit.occupancies.items()
        if occ > 0
    )
    choices = [
        range(max(0, math.floor(t) - 1), min(int(n), math.ceil(t) + 1) + 1)
        for t, n in zip(targets, n_sites, strict=True)
    ]
    combinations = list(itertools.product(*choices))
    grid = np.array(combinations, dtype=float).reshape(len(combinations), len(pairs))
    feasible = np.abs(grid @ q + fixed_charge) < 1e-6
    for o in {o for o, _ in pairs}:
        columns = [k for k, (p, _) in enumerate(pairs) if p == o]
        feasible &= grid[:, columns].sum(axis=1) <= len(orbits[o].indices) * n_cells
    if not feasible.any():
        charge = fixed_charge + float(q @ targets)
        raise StructureInputError(
            f"the occupancies give a net charge of {charge:+.2f} e in {n_cells} cell(s) and no "
            "whole-atom counts near them are charge-neutral"
        )
    error = np.sum(((grid - targets) / n_sites) ** 2, axis=1)
    best = grid[feasible][np.argmin(error[feasible])]
    return {pair: int(n) for pair, n in zip(pairs, best, strict=True)}


def _supercell_positions(
    structure: Structure, orbits: Sequence[SiteOrbit], matrix: np.ndarray
) -> Structure:
    """The supercell's sites, each with the index of its orbit (site property ``orbit``)."""
    orbit_of_site = np.empty(len(structure), dtype=int)
    for o, orbit in enumerate(orbits):
        orbit_of_site[list(orbit.indices)] = o
    # Only positions matter here: a placeholder element carries them through make_supercell.
    return Structure(
        structure.lattice,
        ["H"] * len(structure),
        structure.frac_coords,
        site_properties={"orbit": orbit_of_site.tolist()},
    ).make_supercell(matrix, in_place=False)


class _ArrangementSpace:
    """Arrangements of whole atoms on the candidate sites of a supercell, and their energies.

    The Ewald energy is a quadratic form in the site charges, E = Σ_ij q_i q_j Φ_ij, so one
    EwaldSummation of every site with unit charge gives Φ, and any arrangement costs a few
    matrix-vector products instead of a new summation. The neutralising-background term that
    EwaldSummation adds for a charged cell is left out of ``total_energy_matrix``, which is
    right: every arrangement is neutral.
    """

    def __init__(
        self,
        structure: Structure,
        orbits: Sequence[SiteOrbit],
        matrix: np.ndarray,
        counts: Mapping[tuple[int, str], int],
        charges: Mapping[str, float],
    ) -> None:
        n_cells = round(abs(np.linalg.det(matrix)))
        positions = _supercell_positions(structure, orbits, matrix)
        self.lattice = positions.lattice
        self.frac_coords = positions.frac_coords
        orbit_ids = np.array(positions.site_properties["orbit"])

        self.species = sorted({sp for _, sp in counts}, key=lambda sp: Element(sp).X)
        code_of = {sp: code for code, sp in enumerate(self.species, start=1)}
        self.code_charge = np.array([0.0] + [charges[sp] for sp in self.species])
        fixed_orbits = [o for o, orbit in enumerate(orbits) if orbit.is_fixed]
        occupied = sorted({o for (o, _), n in counts.items() if n > 0})
        self.fixed = np.flatnonzero(np.isin(orbit_ids, fixed_orbits))
        self.fixed_species = [
            next(sp for sp, occ in orbits[o].occupancies.items() if occ > 0)
            for o in orbit_ids[self.fixed]
        ]
        # Candidate sites grouped by orbit, so per-orbit placements concatenate.
        self.candidates = np.concatenate(
            [np.flatnonzero(orbit_ids == o) for o in occupied] or [np.empty(0, dtype=int)]
        )
        self.candidate_orbit = orbit_ids[self.candidates]
        # Per occupied orbit: its species codes, each repeated by its count, then vacancies.
        self.templates = []
        for o in occupied:
            placed = [code_of[sp] for sp in self.species for _ in range(counts.get((o, sp), 0))]
            n_vacant = len(orbits[o].indices) * n_cells - len(placed)
            self.templates.append(np.array(placed + [0] * n_vacant, dtype=np.int8))
        self._set_energy_terms(charges)
        self.same_orbit = self.candidate_orbit[:, None] == self.candidate_orbit[None, :]
        self.permutations = self._symmetry_permutations(orbit_ids)

    def _set_energy_terms(self, charges: Mapping[str, float]) -> None:
        """Φ between candidate sites, their coupling to the fixed sites and the fixed sites'
        own energy, from one EwaldSummation with unit charges."""
        unit = Structure(
            self.lattice,
            ["H"] * len(self.frac_coords),
            self.frac_coords,
            site_properties={"charge": [1.0] * len(self.frac_coords)},
        )
        phi = EwaldSummation(unit).total_energy_matrix
        q_fixed = np.array([charges[sp] for sp in self.fixed_species])
        self.constant = float(q_fixed @ phi[np.ix_(self.fixed, self.fixed)] @ q_fixed)
        self.linear = 2 * phi[np.ix_(self.candidates, self.fixed)] @ q_fixed
        self.phi = phi[np.ix_(self.candidates, self.candidates)]
        diagonal = np.diag(self.phi)
        # Energy change of swapping sites i and j is d (g_i - g_j) + d² curvature_ij.
        self.curvature = diagonal[:, None] + diagonal[None, :] - 2 * self.phi

    def _symmetry_permutations(self, orbit_ids: np.ndarray) -> np.ndarray:
        """Each symmetry operation of the disordered supercell as a permutation of candidates.

        spglib on the site set (types = orbits) gives the operations, lattice translations
        included; mapping coordinates onto site indices is done here because neither pymatgen
        nor spglib returns site permutations for a supercell.
        """
        if not len(self.candidates):  # an ordered input: the identity of nothing
            return np.zeros((1, 0), dtype=int)
        operations = spglib.get_symmetry(
            (self.lattice.matrix, self.frac_coords, orbit_ids), symprec=SYMPREC
        )
        coords = self.frac_coords[self.candidates]
        permutations = []
        for rotation, translation in zip(
            operations["rotations"], operations["translations"], strict=True
        ):
            image = coords @ rotation.T + translation
            delta = image[:, None, :] - coords[None, :, :]
            delta -= np.rint(delta)
            distance = np.linalg.norm(delta @ self.lattice.matrix, axis=-1)
            target = np.argmin(distance, axis=1)
            if distance[np.arange(len(coords)), target].max() < SYMPREC * 10:
                permutations.append(target)
        return np.array(permutations, dtype=int).reshape(-1, len(coords))

    @property
    def n_arrangements(self) -> int:
        """Number of distinct placements (before symmetry)."""
        total = 1
        for template in self.templates:
            _, multiplicities = np.unique(template, return_counts=True)
            total *= math.factorial(len(template)) // math.prod(
                math.factorial(int(m)) for m in multiplicities
            )
        return total

    def energies(self, codes: np.ndarray) -> np.ndarray:
        """Ewald energies (eV per supercell) of arrangements, one per row of ``codes``."""
        x = self.code_charge[codes]
        return self.constant + x @ self.linear + np.einsum("ki,ij,kj->k", x, self.phi, x)

    def enumerate_all(self) -> np.ndarray:
        """Every placement, as rows of species codes (0 = vacancy)."""
        per_orbit = []
        for template in self.templates:
            placements = [np.zeros(len(template), dtype=np.int8)]
            for code in np.unique(template[template > 0]):
                expanded = []
                for placement in placements:
                    free = np.flatnonzero(placement == 0)
                    for chosen in itertools.combinations(free, int(np.sum(template == code))):
                        new = placement.copy()
                        new[list(chosen)] = code
                        expanded.append(new)
                placements = expanded
            per_orbit.append(placements)
        rows = [
            np.concatenate((np.empty(0, dtype=np.int8), *parts))  # () when nothing is partial
            for parts in itertools.product(*per_orbit)
        ]
        return np.array(rows, dtype=np.int8).reshape(len(rows), len(self.candidates))

    def random(self, rng: np.random.Generator) -> np.ndarray:
        """One random placement."""
        return np.concatenate([rng.permutation(t) for t in self.templates])

    def descend(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Steepest descent by swapping two sites of one orbit; every visited arrangement.

        Returns the arrangements (rows) and their energies, from the start to the local minimum.
        """
        codes = codes.astype(np.int8)
        x = self.code_charge[codes]
        gradient = self.linear + 2 * self.phi @ x
        energy = float(self.energies(codes[None, :])[0])
        visited, energies = [codes.copy()], [energy]
        n = len(codes)
        while True:
            step = x[None, :] - x[:, None]  # step[i, j]: charge change at i when i, j swap
            delta = step * (gradient[:, None] - gradient[None, :]) + step**2 * self.curvature
            delta[~self.same_orbit | (step == 0)] = np.inf
            i, j = divmod(int(np.argmin(delta)), n)
            if delta[i, j] >= -1e-9:
                break
            gradient += 2 * step[i, j] * (self.phi[:, i] - self.phi[:, j])
            x[[i, j]] = x[[j, i]]
            codes[[i, j]] = codes[[j, i]]
            energy += float(delta[i, j])
            visited.append(codes.copy())
            energies.append(energy)
        return np.array(visited), np.array(energies)

    def canonical(self, codes: np.ndarray) -> bytes:
        """The same key for all symmetry-equivalent arrangements (lexicographically least image)."""
        return min(row.tobytes() for row in codes[self.permutations])

    def structure(self, codes: np.ndarray) -> Structure:
        """The ordered structure of an arrangement, sites sorted by electronegativity."""
        occupied = codes > 0
        species = self.fixed_species + [self.species[c - 1] for c in codes[occupied]]
        coords = np.concatenate(
            [self.frac_coords[self.fixed], self.frac_coords[self.candidates[occupied]]]
        )
        return Structure(self.lattice, species, coords).get_sorted_structure()


def ordered_supercells(
    structure: Structure,
    n_atoms: int,
    site_occupancies: Mapping[str, Mapping[str, float]] | None = None,
    n_structures: int = 5,
    seed: int = 0,
    *,
    n_samples: int = 5000,
    oxidation_states: Mapping[str, float] | None = None,
    mobile_species: str = "Li",
    allow_non_diagonal: bool = False,
) -> list[OrderedSupercell]:
    """The lowest-Ewald-energy, symmetry-distinct ordered supercells of a disordered structure.

    Parameters
    ----------
    structure
        Structure with partial occupancies (e.g. the built-in ``li3ticl6``).
    n_atoms
        Atoms in the supercell; must be a whole number of input cells' worth of atoms, at most
        :data:`MAX_ORDERED_ATOMS`.
    site_occupancies
        Target occupancies replacing the structure's own: site (Wyckoff symbol ``"2a"`` or
        CIF label ``"Ti1"``) → element → occupancy, e.g. ``{"2a": {"Ti": 0.754}}``.
    n_structures
        How many distinct structures to return (fewer if fewer exist).
    seed
        Seed of the random sampling (results are deterministic for a seed).
    n_samples
        Arrangements are enumerated when there are at most this many, otherwise this many
        random starts are each relaxed by steepest-descent swaps.
    oxidation_states
        Element → oxidation state for the Ewald energy and charge neutrality; by default the
        structure's own, else pymatgen's guess (Li3TiCl6: Li+ Ti3+ Cl-).
    mobile_species
        The conducting ion; the structure must contain it.
    allow_non_diagonal
        Allow non-diagonal supercell matrices (wider cells; the study's cells are diagonal,
        2×2×2 and 2×2×4 conventional cells for 160 and 320 atoms).

    Returns
    -------
    list of OrderedSupercell
        Sorted by Ewald energy, lowest first.

    Raises
    ------
    StructureInputError
        A target size above :data:`MAX_ORDERED_ATOMS`, occupancies above 1 on a site, no
        mobile species, a target size smaller than one cell or not a whole number of cells, or
        occupancies no charge-neutral cell can approximate.
    """
    check_ordered_size(n_atoms)  # before anything scales with the size
    if n_structures < 1 or n_samples < 1:
        raise StructureInputError("n_structures and n_samples must be at least 1")
    orbits, n_cells, counts, charges = _supercell_content(
        structure, n_atoms, site_occupancies or {}, oxidation_states or {}, mobile_species
    )
    matrix = best_supercell_matrix(structure.lattice.matrix, [n_cells], n_cells, allow_non_diagonal)
    space = _ArrangementSpace(structure, orbits, matrix, counts, charges)
    codes, energies = _sample_arrangements(space, n_samples, seed)
    chosen = _distinct_lowest(space, codes, energies, n_structures, n_atoms)
    occupancies = _occupancy_report(orbits, n_cells, counts)
    return [
        _ordered_supercell(space, arrangement, ordered, n_atoms, matrix, occupancies, rank, seed)
        for rank, (arrangement, ordered) in enumerate(chosen, start=1)
    ]


def _supercell_content(
    structure: Structure,
    n_atoms: int,
    site_occupancies: Mapping[str, Mapping[str, float]],
    oxidation_states: Mapping[str, float],
    mobile_species: str,
) -> tuple[list[SiteOrbit], int, dict[tuple[int, str], int], dict[str, float]]:
    """Target orbits, number of input cells, whole-atom counts and charges of the supercell.

    Raises :class:`StructureInputError` when the mobile species is absent, ``n_atoms`` is less
    than one cell or not a whole number of cells, or no charge-neutral counts exist.
    """
    own = site_orbits(structure)
    orbits = apply_site_occupancies(own, site_occupancies)
    present = {sp for o in orbits for sp, occ in o.occupancies.items() if occ > 0}
    if mobile_species not in present:
        raise StructureInputError(
            f"the structure has no {mobile_species} (the mobile species); it has "
            f"{', '.join(sorted(present))}"
        )
    charges = _charges(structure, own, orbits, oxidation_states)
    per_cell = sum(len(o.indices) * sum(o.occupancies.values()) for o in orbits)
    if n_atoms < round(per_cell):
        raise StructureInputError(f"{n_atoms} atoms is smaller than one cell ({per_cell:g} atoms)")
    n_cells = math.floor(n_atoms / per_cell + 0.5)
    counts = _whole_atom_counts(orbits, n_cells, charges)
    total = sum(len(o.indices) * n_cells for o in orbits if o.is_fixed) + sum(counts.values())
    if total != n_atoms:
        raise StructureInputError(
            f"{n_atoms} atoms is not reachable: {n_cells} cells of {per_cell:g} atoms hold "
            f"{total}; use a multiple of the cell"
        )
    return orbits, n_cells, counts, charges


def _sample_arrangements(
    space: _ArrangementSpace, n_samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Arrangements and their energies: all of them when at most ``n_samples`` exist, else the
    steepest-descent paths of ``n_samples`` seeded random starts."""
    if space.n_arrangements <= n_samples:
        codes = space.enumerate_all()
        return codes, space.energies(codes)
    rng = np.random.default_rng(seed)
    paths = [space.descend(space.random(rng)) for _ in range(n_samples)]
    return np.concatenate([p[0] for p in paths]), np.concatenate([p[1] for p in paths])


def _ordered_supercell(
    space: _ArrangementSpace,
    arrangement: np.ndarray,
    ordered: Structure,
    n_atoms: int,
    matrix: np.ndarray,
    occupancies: list[SiteOccupancy],
    rank: int,
    seed: int,
) -> OrderedSupercell:
    """The result record of one chosen arrangement: its Ewald energy and symmetry."""
    energy = float(space.energies(arrangement[None, :])[0]) / n_atoms
    analyzer = SpacegroupAnalyzer(ordered, symprec=SYMPREC)
    return OrderedSupercell(
        structure=ordered,
        formula=ordered.composition.formula,
        supercell_matrix=matrix.tolist(),
        occupancies=occupancies,
        ewald_energy_eV_per_atom=energy,
        space_group=analyzer.get_space_group_symbol(),
        space_group_number=analyzer.get_space_group_number(),
        lattice_abc_A=list(ordered.lattice.abc),
        lattice_angles_deg=list(ordered.lattice.angles),
        rank=rank,
        seed=seed,
    )


def _distinct_lowest(
    space: _ArrangementSpace,
    codes: np.ndarray,
    energies: np.ndarray,
    n_structures: int,
    n_atoms: int,
) -> list[tuple[np.ndarray, Structure]]:
    """The ``n_structures`` lowest arrangements that no symmetry maps onto each other.

    Canonical keys under the parent's operations remove most images cheaply (a
    ``StructureMatcher`` fit of two 320-atom cells takes far longer, and low-energy images are
    many); ``StructureMatcher`` then checks the survivors of equal energy, which catches
    equivalences the framework has beyond the disordered parent's symmetry.
    """
    matcher = StructureMatcher(primitive_cell=False)
    tolerance = ENERGY_TOLERANCE_EV_PER_ATOM * n_atoms
    seen: set[bytes] = set()
    chosen: list[tuple[np.ndarray, Structure, float]] = []
    for index in np.argsort(energies, kind="stable"):
        key = space.canonical(codes[index])
        if key in seen:
            continue
        seen.add(key)
        candidate = space.structure(codes[index])
        if any(
            abs(energies[index] - energy) < tolerance and matcher.fit(candidate, other)
            for _, other, energy in chosen
        ):
            continue
        chosen.append((codes[index], candidate, float(energies[index])))
        if len(chosen) == n_structures:
            break
    return [(arrangement, ordered) for arrangement, ordered, _ in chosen]


def _occupancy_report(
    orbits: Sequence[SiteOrbit], n_cells: int, counts: Mapping[tuple[int, str], int]
) -> list[SiteOccupancy]:
    """Target vs achieved occupancy of every species on every orbit."""
    report = []
    for o, orbit in enumerate(orbits):
        n_sites = len(orbit.indices) * n_cells
        for sp, target in orbit.occupancies.items():
            n = n_sites if orbit.is_fixed else counts.get((o, sp), 0)
            report.append(
                SiteOccupancy(
                    orbit=orbit.wyckoff,
                    site_labels=list(orbit.site_labels),
                    species=sp,
                    n_sites=n_sites,
                    n_atoms=n,
                    target_occupancy=target,
                    achieved_occupancy=n / n_sites,
                )
            )
    return report
