"""Elementary Li hops of an ordered cell: enumeration, crystal-direction labels, layers, clearance.

Vacancy hops (an ion moves to a neighbouring vacant site of its own species) are the
symmetry-distinct paths of pymatgen-analysis-diffusion's ``DistinctPathFinder``. Interstitial
hops (an ion moves to an empty position) have no library counterpart and are listed here from
each symmetry-distinct site of the species to every periodic copy of each position within the
length limit. The empty positions are given, or found as the sites of the disordered parent
structure's partially occupied orbits that the ordered cell leaves empty
(:func:`vacant_parent_sites`; Li3TiCl6: the Ti-layer 4g, and 2a in a cell that empties some).

Hops are elementary by default: at most ``DEFAULT_MAX_HOP_LENGTH_A`` (4 Å) long, so a hop
joins neighbouring sites and does not pass an occupied site on its way. Each hop records its
straight path's closest approach to every other element (:func:`path_clearance_A`).

Direction labels are in the basis of the labelling cell: the parent (the cell the ordered one
was built from; the built-in Li3TiCl6: the conventional C2/m cell of its CIF, b the long axis,
Li and Ti in alternating (001) layers) or, without a parent, the cell itself. A label is the
smallest-integer [uvw] within a tolerance angle of the hop vector, sign-free (a hop and its
reverse share a label), written ``[3-10]`` for [3 -1 0]. Symmetry-equivalent directions
(under the ordered cell's point group) are kept so that a request for [110] finds a hop
labelled [1-10] in a monoclinic cell and returns its copy along [110].

Layers: the stacking direction is the normal to the (hkl) planes of the labelling cell
(default (001), i.e. along c*); a hop crosses layers when it moves the ion more than
``layer_tolerance_A`` along it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from monty.json import MSONable
from pymatgen.analysis.diffusion.neb.pathfinder import DistinctPathFinder
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from litcl_flows.structures.ordering import site_orbits

#: Li3TiCl6's four elementary hop classes in the conventional C2/m cell: Li → Li in the (001)
#: Li layer along b (3.61 Å) and along [310] (3.64 Å), Li → empty Ti-layer (4g/2a) site along
#: [101] (3.63 Å) and [013] (3.64–3.66 Å). An input for that material, not a default.
LI3TICL6_HOP_DIRECTIONS: tuple[str, ...] = ("[010]", "[310]", "[101]", "[013]")
#: Longest hop considered by default, Å: Li–Li and Li–empty-octahedron neighbours in
#: Li3TiCl6 are 3.6–3.7 Å apart; the next Li–Li distance (6.3 Å) is a jump past a neighbour.
DEFAULT_MAX_HOP_LENGTH_A = 4.0
#: Largest angle between a hop and its [uvw] label, degrees.
DEFAULT_DIRECTION_TOLERANCE_deg = 10.0
#: Largest |u|, |v|, |w| tried when labelling.
DEFAULT_MAX_MILLER_INDEX = 4
#: A hop moving the ion less than this along the stacking normal stays in its layer, Å.
DEFAULT_LAYER_TOLERANCE_A = 1.0
#: An atom closer than this to a site occupies it, Å (relaxed cells move atoms off the ideal
#: positions by a few tenths of an Å; distinct cation sites of a chloride are ≥ 3 Å apart).
SITE_OCCUPIED_TOLERANCE_A = 1.0
#: Largest strain between an ordered (relaxed) cell and its parent multiple: beyond it the
#: cell is not taken for a supercell of the parent.
MAX_PARENT_STRAIN = 0.15
#: Atoms farther than this from both ends of a hop are not searched for its clearance, Å.
CLEARANCE_SEARCH_A = 6.0


class NebSetupError(ValueError):
    """A hop, supercell or image request that cannot be met; the message is one line."""


Direction = tuple[int, int, int]


def _canonical(uvw: Iterable[int]) -> Direction:
    """Divide by the gcd and make the first non-zero index positive (a line, not a sense)."""
    ints = [int(np.rint(i)) for i in uvw]
    divisor = math.gcd(*ints)
    if divisor == 0:
        raise NebSetupError("a direction cannot be [000]")
    ints = [i // divisor for i in ints]
    sign = next(1 if i > 0 else -1 for i in ints if i != 0)
    return (sign * ints[0], sign * ints[1], sign * ints[2])


def format_direction(uvw: Sequence[int]) -> str:
    """``(3, -1, 0)`` → ``"[3-10]"``."""
    return "[" + "".join(str(int(i)) for i in uvw) + "]"


def parse_direction(direction: str | Sequence[int]) -> Direction:
    """Read ``"[110]"``, ``"[1-10]"``, ``"1 -1 0"`` or ``(1, -1, 0)`` as a canonical direction.

    Indices are single digits in the bracket form (as written in crystallography); use a
    sequence for larger ones.
    """
    if isinstance(direction, str):
        text = direction.strip().strip("[]").replace(",", " ")
        tokens = text.split() if " " in text.strip() else _split_digits(text)
        if len(tokens) != 3:
            raise NebSetupError(f"cannot read crystal direction {direction!r} (write e.g. [1-10])")
        return _canonical(int(t) for t in tokens)
    if len(direction) != 3:
        raise NebSetupError(f"a crystal direction needs three indices, got {list(direction)}")
    return _canonical(direction)


def _split_digits(text: str) -> list[str]:
    """``"1-10"`` → ``["1", "-1", "0"]``; anything else unreadable → ``[]``."""
    tokens: list[str] = []
    sign = ""
    for char in text:
        if char == "-" and not sign:
            sign = "-"
        elif char.isdigit():
            tokens.append(sign + char)
            sign = ""
        else:
            return []
    return tokens if not sign else []


def _candidate_directions(max_index: int) -> list[Direction]:
    """Canonical [uvw] with indices up to ``max_index``, smallest first (Σ|i|, then max |i|)."""
    rng = range(-max_index, max_index + 1)
    found = {_canonical(uvw) for uvw in itertools.product(rng, rng, rng) if any(uvw)}
    return sorted(found, key=lambda d: (sum(map(abs, d)), max(map(abs, d)), [-i for i in d]))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two lines (sign-free), degrees."""
    cos = abs(float(np.dot(a, b))) / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(min(1.0, cos)))


def label_direction(
    frac_vector: Sequence[float],
    lattice: Lattice,
    tolerance_deg: float = DEFAULT_DIRECTION_TOLERANCE_deg,
    max_index: int = DEFAULT_MAX_MILLER_INDEX,
) -> tuple[Direction, float]:
    """Smallest-integer [uvw] within ``tolerance_deg`` of a vector given in fractional coordinates.

    Parameters
    ----------
    frac_vector
        The hop vector in the lattice basis.
    lattice
        The cell the indices refer to.
    tolerance_deg
        Largest angle between the vector and the label, degrees.
    max_index
        Largest index tried (at most 9, so that labels read unambiguously).

    Returns
    -------
    The canonical direction and its angle to the vector, degrees. When no direction with
    indices up to ``max_index`` lies within the tolerance, the closest one is returned, and
    its angle says so.
    """
    if not 1 <= max_index <= 9:
        raise NebSetupError(f"max Miller index must be 1..9, got {max_index}")
    cart = lattice.get_cartesian_coords(np.asarray(frac_vector, dtype=float))
    if np.linalg.norm(cart) < 1e-8:
        raise NebSetupError("a hop of zero length has no direction")
    best: tuple[Direction, float] | None = None
    for uvw in _candidate_directions(max_index):
        angle = _angle_deg(cart, lattice.get_cartesian_coords(uvw))
        if angle <= tolerance_deg:
            return uvw, angle
        if best is None or angle < best[1] - 1e-9:
            best = (uvw, angle)
    assert best is not None  # max_index ≥ 1 gives candidates
    return best


def stacking_normal(lattice: Lattice, plane_hkl: Sequence[int] = (0, 0, 1)) -> np.ndarray:
    """Unit normal to the (hkl) planes, Cartesian (for (001): along c*)."""
    normal = lattice.reciprocal_lattice.get_cartesian_coords(np.asarray(plane_hkl, dtype=float))
    return normal / np.linalg.norm(normal)


@dataclass(frozen=True)
class StudyHop:
    """The geometry the study gives one of its labelled barriers (docs/neb.md).

    Parameters
    ----------
    label
        The study's [uvw], in the conventional C2/m cell (a, b, c as in the CIF; the study's
        Table II lattice is that setting).
    crosses_layers
        True where the study calls the hop inter-layer.
    mechanism
        ``"interstitial"`` where the study says the hop runs through interstitial sites;
        None where it says nothing.
    """

    label: str
    crosses_layers: bool
    mechanism: str | None = None


#: "The inter-layer ([110] and [101]) migration barriers are considered along interstitial
#: sites"; [010] and [100] are then in-layer. In the conventional C2/m cell [110] and [100]
#: lie in the (001) layers, so no inter-layer hop runs along [110], and the only Li–Li
#: vectors along [110] and [100] are 6.3 Å second-neighbour jumps: neither label matches an
#: elementary hop, and no barrier is computed under those names.
STUDY_HOPS: tuple[StudyHop, ...] = (
    StudyHop("[110]", crosses_layers=True, mechanism="interstitial"),
    StudyHop("[101]", crosses_layers=True, mechanism="interstitial"),
    StudyHop("[010]", crosses_layers=False),
    StudyHop("[100]", crosses_layers=False),
)


@dataclass
class Interstitial(MSONable):
    """An empty position an ion may hop to.

    Parameters
    ----------
    frac_coords
        Fractional coordinates in the cell the hops live in.
    name
        What the position is, e.g. ``"4g (Ti2)"`` for an empty Ti site of the parent.
    """

    frac_coords: tuple[float, float, float]
    name: str = "interstitial"


@dataclass
class Hop(MSONable):
    """One ion hop in a cell, with its label.

    Parameters
    ----------
    species
        The migrating species, e.g. ``"Li"``.
    mechanism
        ``"vacancy"`` (to a vacant site of the same species) or ``"interstitial"``.
    start_frac
        Fractional coordinates of the starting site in the cell.
    end_frac
        Fractional coordinates of the end position, unwrapped (start + hop vector).
    length_A
        Hop length, Å.
    direction
        Canonical [uvw] label in the labelling cell's basis.
    direction_angle_deg
        Angle between the hop and its label, degrees.
    equivalent_directions
        Labels of the symmetry-equivalent copies of the hop, sorted.
    stacking_offset_A
        |displacement| along the stacking normal, Å.
    crosses_layers
        True when the hop leaves its layer (offset above the layer tolerance).
    end_site
        What the ion hops to: its own species' site (vacancy hop) or the interstitial's name.
    path_clearance_A
        Element → closest approach of the straight start–end path to an atom of it, Å (the
        migrating ion itself and, in a vacancy hop, the ion removed from the end site left
        out).
    cell_setting
        The basis of the direction label.
    study_label
        The study's label whose geometry (:data:`STUDY_HOPS`) this hop has; None: none.
    """

    species: str
    mechanism: str
    start_frac: tuple[float, float, float]
    end_frac: tuple[float, float, float]
    length_A: float
    direction: tuple[int, int, int]
    direction_angle_deg: float
    equivalent_directions: tuple[str, ...]
    stacking_offset_A: float
    crosses_layers: bool
    end_site: str = ""
    path_clearance_A: dict[str, float] = field(default_factory=dict)
    cell_setting: str = ""
    study_label: str | None = None

    @property
    def direction_label(self) -> str:
        """``[uvw]`` text of :attr:`direction`."""
        return format_direction(self.direction)


def parent_supercell_matrix(structure: Structure, parent: Structure) -> np.ndarray:
    """Integer M with ``structure.lattice ≈ M · parent.lattice`` (rows: lattice vectors).

    Raises
    ------
    NebSetupError
        When no integer matrix maps the parent cell onto the cell within
        :data:`MAX_PARENT_STRAIN` (a different orientation, or not a supercell).
    """
    ratio = structure.lattice.matrix @ np.linalg.inv(parent.lattice.matrix)
    matrix = np.rint(ratio).astype(int)
    strain = np.linalg.norm(ratio - matrix) / max(1.0, float(np.linalg.norm(matrix)))
    if round(np.linalg.det(matrix)) < 1 or strain > MAX_PARENT_STRAIN:
        raise NebSetupError(
            f"the {structure.reduced_formula} cell is not a supercell of the parent "
            f"{parent.reduced_formula} cell in the same orientation (cell ≈ "
            f"{np.round(ratio, 2).tolist()} × parent)"
        )
    return matrix


def describe_setting(lattice: Lattice, name: str) -> str:
    """``"a, b, c of <name> (a 6.350, b 10.880, c 6.337 Å; α 90.0, β 110.2, γ 90.0°)"``."""
    a, b, c = lattice.abc
    alpha, beta, gamma = lattice.angles
    return (
        f"a, b, c of {name} (a {a:.3f}, b {b:.3f}, c {c:.3f} Å; "
        f"α {alpha:.1f}, β {beta:.1f}, γ {gamma:.1f}°)"
    )


def path_clearance_A(
    structure: Structure,
    start_frac: Sequence[float],
    end_frac: Sequence[float],
    skip_end: bool,
) -> dict[str, float]:
    """Element → closest approach of the straight path from start to end to its atoms, Å.

    The atom on the start site (the migrating ion) is left out, and with ``skip_end`` the
    atom on the end site (a vacancy hop's end ion, removed in the NEB). The distance of an
    atom to the path is its distance to the nearest point of the segment (endpoints
    included), over all periodic copies.
    """
    lattice = structure.lattice
    start = lattice.get_cartesian_coords(np.asarray(start_frac, dtype=float))
    end = lattice.get_cartesian_coords(np.asarray(end_frac, dtype=float))
    vector = end - start
    length_sq = float(np.dot(vector, vector))
    radius = math.sqrt(length_sq) / 2 + CLEARANCE_SEARCH_A
    found = lattice.get_points_in_sphere(structure.frac_coords, (start + end) / 2, radius)
    skipped = [start, end] if skip_end else [start]
    clearance: dict[str, float] = {}
    for frac, _, index, _ in found:
        point = lattice.get_cartesian_coords(frac)
        if any(np.linalg.norm(point - s) < 1e-3 for s in skipped):
            continue
        t = min(1.0, max(0.0, float(np.dot(point - start, vector)) / length_sq))
        distance = float(np.linalg.norm(point - (start + t * vector)))
        element = structure[int(index)].specie.symbol
        clearance[element] = min(distance, clearance.get(element, math.inf))
    return dict(sorted(clearance.items()))


def vacant_parent_sites(
    structure: Structure,
    parent: Structure,
    tolerance_A: float = SITE_OCCUPIED_TOLERANCE_A,
) -> list[Interstitial]:
    """Sites of the parent's partially occupied orbits that the ordered cell leaves empty.

    Parameters
    ----------
    structure
        The ordered cell (a supercell of ``parent``, possibly relaxed).
    parent
        The disordered structure it was ordered from (same origin and orientation).
    tolerance_A
        An atom closer than this occupies a site, Å.

    Returns
    -------
    The empty sites, in ``structure``'s fractional coordinates, named by Wyckoff symbol and
    CIF label of their orbit (e.g. ``"4g (Ti2)"``).
    """
    matrix = parent_supercell_matrix(structure, parent)
    partial = [orbit for orbit in site_orbits(parent) if not orbit.is_fixed]
    if not partial:
        return []
    names = [orbit.name for orbit in partial for _ in orbit.indices]
    indices = [i for orbit in partial for i in orbit.indices]
    # Only positions matter: a placeholder element carries them through make_supercell.
    sites = Structure(
        parent.lattice,
        ["H"] * len(indices),
        parent.frac_coords[indices],
        site_properties={"name": names},
    ).make_supercell(matrix, in_place=False)
    distances = structure.lattice.get_all_distances(sites.frac_coords, structure.frac_coords)
    return [
        Interstitial(tuple(float(x) for x in site.frac_coords), site.properties["name"])  # type: ignore[arg-type]
        for site, row in zip(sites, distances, strict=True)
        if row.min() > tolerance_A
    ]


class HopLabeller:
    """Labels hop vectors of one cell: direction, symmetry-equivalent directions, layers, path.

    Parameters
    ----------
    structure
        The ordered cell the hops live in.
    symprec
        Symmetry tolerance for the point group, Å.
    tolerance_deg, max_index
        As in :func:`label_direction`.
    plane_hkl
        Miller indices of the layer planes in the labelling cell (the stacking direction is
        their normal).
    layer_tolerance_A
        Offset along the normal below which a hop stays in its layer, Å.
    parent
        The cell whose basis labels refer to (``structure`` must be a supercell of it, as an
        ordered supercell is of the disordered structure); None: ``structure``'s own basis.
    study_hops
        The study's labelled hops to match by geometry.
    """

    def __init__(
        self,
        structure: Structure,
        symprec: float = 0.1,
        tolerance_deg: float = DEFAULT_DIRECTION_TOLERANCE_deg,
        max_index: int = DEFAULT_MAX_MILLER_INDEX,
        plane_hkl: Sequence[int] = (0, 0, 1),
        layer_tolerance_A: float = DEFAULT_LAYER_TOLERANCE_A,
        parent: Structure | None = None,
        study_hops: Sequence[StudyHop] = STUDY_HOPS,
    ) -> None:
        self.structure = structure
        self.tolerance_deg = tolerance_deg
        self.max_index = max_index
        self.layer_tolerance_A = layer_tolerance_A
        self.study_hops = tuple(study_hops)
        if parent is None:
            self.to_basis = np.eye(3, dtype=int)
            name = f"the {structure.reduced_formula} cell itself ({len(structure)} atoms)"
        else:
            self.to_basis = parent_supercell_matrix(structure, parent)
            spacegroup = SpacegroupAnalyzer(parent, symprec=0.01).get_space_group_symbol()
            name = f"the parent cell ({spacegroup}, {len(parent)} sites)"
        # The labelling cell with the strain of ``structure`` (relaxed cells keep their labels).
        self.lattice = Lattice(np.linalg.inv(self.to_basis) @ structure.lattice.matrix)
        self.cell_setting = describe_setting(self.lattice, name)
        self.normal = stacking_normal(self.lattice, plane_hkl)
        # Rotations act on fractional columns of ``structure``; u = Mᵀ v takes them to labels.
        ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations()
        forward = self.to_basis.T.astype(float)
        self.rotations = [forward @ op.rotation_matrix @ np.linalg.inv(forward) for op in ops]

    def equivalent_directions(self, uvw: Direction) -> tuple[str, ...]:
        """Labels of all point-group images of ``uvw``, sorted."""
        images = set()
        for rot in self.rotations:
            image = rot @ np.asarray(uvw, dtype=float)
            if np.allclose(image, np.rint(image), atol=1e-3):
                images.add(_canonical(np.rint(image).astype(int)))
        return tuple(sorted(format_direction(d) for d in images))

    def study_label(self, hop: Hop) -> str | None:
        """The first study hop with the geometry of ``hop`` (direction, layers, mechanism)."""
        for study in self.study_hops:
            if (
                format_direction(parse_direction(study.label)) in hop.equivalent_directions
                and study.crosses_layers == hop.crosses_layers
                and study.mechanism in (None, hop.mechanism)
            ):
                return study.label
        return None

    def hop(
        self,
        species: str,
        mechanism: str,
        start_frac: np.ndarray,
        end_frac: np.ndarray,
        end_site: str | None = None,
    ) -> Hop:
        """Build a labelled :class:`Hop` from its start and (unwrapped) end, fractional."""
        start = np.asarray(start_frac, dtype=float)
        end = np.asarray(end_frac, dtype=float)
        vector = (end - start) @ self.to_basis
        uvw, angle = label_direction(vector, self.lattice, self.tolerance_deg, self.max_index)
        cart = self.lattice.get_cartesian_coords(vector)
        offset = abs(float(np.dot(cart, self.normal)))
        hop = Hop(
            species=species,
            mechanism=mechanism,
            start_frac=tuple(float(x) for x in start),  # type: ignore[arg-type]
            end_frac=tuple(float(x) for x in end),  # type: ignore[arg-type]
            length_A=float(np.linalg.norm(cart)),
            direction=uvw,
            direction_angle_deg=angle,
            equivalent_directions=self.equivalent_directions(uvw),
            stacking_offset_A=offset,
            crosses_layers=offset > self.layer_tolerance_A,
            end_site=end_site or species,
            path_clearance_A=path_clearance_A(
                self.structure, start, end, skip_end=mechanism == "vacancy"
            ),
            cell_setting=self.cell_setting,
        )
        hop.study_label = self.study_label(hop)
        return hop


def _sort_key(hop: Hop) -> tuple:
    """Deterministic order: length, then label, then start position."""
    return (
        round(hop.length_A, 4),
        hop.mechanism,
        hop.direction_label,
        hop.end_site,
        np.round(hop.start_frac, 4).tolist(),
    )


def _as_interstitials(
    positions: Sequence[Interstitial | Sequence[float]] | None,
) -> list[Interstitial]:
    """Plain fractional coordinates become :class:`Interstitial` named ``"interstitial"``."""
    return [
        p if isinstance(p, Interstitial) else Interstitial(tuple(float(x) for x in p))  # type: ignore[arg-type]
        for p in positions or []
    ]


def enumerate_hops(
    structure: Structure,
    species: str = "Li",
    max_hop_length_A: float = DEFAULT_MAX_HOP_LENGTH_A,
    interstitial_frac_coords: Sequence[Interstitial | Sequence[float]] | None = None,
    labeller: HopLabeller | None = None,
    symprec: float = 0.1,
) -> list[Hop]:
    """Symmetry-distinct hops of ``species`` up to ``max_hop_length_A``, shortest first.

    Parameters
    ----------
    structure
        An ordered cell (every site fully occupied).
    species
        The migrating species.
    max_hop_length_A
        Longest hop, Å.
    interstitial_frac_coords
        Empty positions (fractional, or :class:`Interstitial`) to add ion → interstitial
        hops for, e.g. from :func:`vacant_parent_sites`; None: none.
    labeller
        Labeller of the cell; default one with default tolerances.
    symprec
        Symmetry tolerance of ``DistinctPathFinder``, Å.
    """
    if not structure.is_ordered:
        raise NebSetupError(
            f"{structure.reduced_formula}: hops need an ordered cell (order it first)"
        )
    if species not in {el.symbol for el in structure.composition.elements}:
        raise NebSetupError(f"{structure.reduced_formula} has no {species}")
    labeller = labeller or HopLabeller(structure, symprec=symprec)
    finder = DistinctPathFinder(
        structure, species, max_path_length=max_hop_length_A, symprec=symprec
    )
    hops = [
        labeller.hop(species, "vacancy", path.isite.frac_coords, path.esite.frac_coords)
        for path in finder.get_paths()
    ]
    interstitials = _as_interstitials(interstitial_frac_coords)
    if interstitials:
        hops += _interstitial_hops(finder, species, interstitials, max_hop_length_A, labeller)
    return sorted(hops, key=_sort_key)


def _interstitial_hops(
    finder: DistinctPathFinder,
    species: str,
    interstitials: Sequence[Interstitial],
    max_hop_length_A: float,
    labeller: HopLabeller,
) -> list[Hop]:
    """Hops from each distinct site of ``species`` to each copy of each interstitial in range.

    Hops from one site orbit to interstitials of one name, of one length and one set of
    symmetry-equivalent directions, are kept once (a geometric, not a full symmetry,
    reduction).
    """
    lattice = finder.symm_structure.lattice
    hops: dict[tuple, Hop] = {}
    for sites in finder.symm_structure.equivalent_sites:
        if sites[0].specie.symbol != species:
            continue
        start = sites[0].frac_coords
        for interstitial in interstitials:
            neighbours = lattice.get_points_in_sphere(
                [np.asarray(interstitial.frac_coords, dtype=float)],
                sites[0].coords,
                max_hop_length_A,
            )
            for frac, dist, _, _ in neighbours:
                if dist < 1e-3:
                    continue
                hop = labeller.hop(species, "interstitial", start, frac, interstitial.name)
                key = (
                    tuple(np.round(start, 4)),
                    interstitial.name,
                    round(dist, 3),
                    hop.equivalent_directions,
                )
                hops.setdefault(key, hop)
    return list(hops.values())


def select_hops(
    structure: Structure,
    directions: Sequence[str | Sequence[int]] = ("[010]",),
    species: str = "Li",
    max_hop_length_A: float = DEFAULT_MAX_HOP_LENGTH_A,
    labeller: HopLabeller | None = None,
    symprec: float = 0.1,
    interstitial_frac_coords: Sequence[Interstitial | Sequence[float]] | None = None,
) -> list[Hop]:
    """The shortest hop along each requested direction, as the copy along it.

    A distinct hop (vacancy, or interstitial when positions are given) matches a request when
    one of its symmetry-equivalent copies lies along the requested [uvw] (within the labelling
    tolerance); the returned hop is that copy.

    Raises
    ------
    NebSetupError
        When no hop up to ``max_hop_length_A`` lies along a requested direction.
    """
    labeller = labeller or HopLabeller(structure, symprec=symprec)
    hops = enumerate_hops(
        structure, species, max_hop_length_A, interstitial_frac_coords, labeller, symprec
    )
    ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations()
    chosen: list[Hop] = []
    for request in directions:
        target = parse_direction(request)
        label = format_direction(target)
        match = next((h for h in hops if label in h.equivalent_directions), None)
        if match is None:
            found = ", ".join(sorted({h.direction_label for h in hops})) or "none"
            raise NebSetupError(
                f"no {species} hop up to {max_hop_length_A:g} Å along {label} in "
                f"{structure.reduced_formula} (hop directions found: {found}; labels in "
                f"{labeller.cell_setting})"
            )
        chosen.append(_copy_along(match, target, ops, labeller))
    return chosen


def _copy_along(hop: Hop, target: Direction, ops: list, labeller: HopLabeller) -> Hop:
    """The symmetry image of ``hop`` labelled ``target``, its start wrapped into the cell."""
    start, end = np.asarray(hop.start_frac), np.asarray(hop.end_frac)
    for op in ops:
        new_start = op.operate(start)
        new_end = op.operate(end)
        shift = np.floor(new_start + 1e-8)
        copy = labeller.hop(
            hop.species, hop.mechanism, new_start - shift, new_end - shift, hop.end_site
        )
        if copy.direction == target:
            return copy
    raise NebSetupError(f"no symmetry copy of the hop lies along {format_direction(target)}")
