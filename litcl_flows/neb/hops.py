"""Li hops of an ordered cell: enumeration, crystal-direction labels, in-layer or between layers.

Vacancy hops (an ion moves to a neighbouring vacant site of its own species) are the
symmetry-distinct paths of pymatgen-analysis-diffusion's ``DistinctPathFinder``. Interstitial
hops (an ion moves to a position the user gives) have no library counterpart and are listed
here from each symmetry-distinct site of the species to every periodic copy of each given
position within the length limit.

Direction labels are in the basis of the cell given (for the built-in Li3TiCl6: the
conventional C2/m cell, b the long axis): the smallest-integer [uvw] within a tolerance angle
of the hop vector, sign-free (a hop and its reverse share a label), written ``[3-10]`` for
[3 -1 0]. Symmetry-equivalent directions (under the cell's point group) are kept so that a
request for [110] finds a hop labelled [1-10] in a monoclinic cell and returns its copy along
[110].

Layers: the stacking direction is the normal to the (hkl) planes (default (001), i.e. along
c*); a hop crosses layers when it moves the ion more than ``layer_tolerance_A`` along it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from monty.json import MSONable
from pymatgen.analysis.diffusion.neb.pathfinder import DistinctPathFinder
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

#: The study's hop directions (SCIENCE.md §6), in the conventional C2/m cell.
STUDY_DIRECTIONS: tuple[str, ...] = ("[110]", "[101]", "[010]", "[100]")
#: Longest hop considered by default, Å (the study's [101] hop spans two Li layers, ≈ 7.3 Å).
DEFAULT_MAX_HOP_LENGTH_A = 8.0
#: Largest angle between a hop and its [uvw] label, degrees.
DEFAULT_DIRECTION_TOLERANCE_deg = 10.0
#: Largest |u|, |v|, |w| tried when labelling.
DEFAULT_MAX_MILLER_INDEX = 4
#: A hop moving the ion less than this along the stacking normal stays in its layer, Å.
DEFAULT_LAYER_TOLERANCE_A = 1.0


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
        Canonical [uvw] label.
    direction_angle_deg
        Angle between the hop and its label, degrees.
    equivalent_directions
        Labels of the symmetry-equivalent copies of the hop, sorted.
    stacking_offset_A
        |displacement| along the stacking normal, Å.
    crosses_layers
        True when the hop leaves its layer (offset above the layer tolerance).
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

    @property
    def direction_label(self) -> str:
        """``[uvw]`` text of :attr:`direction`."""
        return format_direction(self.direction)


class HopLabeller:
    """Labels hop vectors of one cell: direction, symmetry-equivalent directions, layers.

    Parameters
    ----------
    structure
        The ordered cell the hops live in.
    symprec
        Symmetry tolerance for the point group, Å.
    tolerance_deg, max_index
        As in :func:`label_direction`.
    plane_hkl
        Miller indices of the layer planes (the stacking direction is their normal).
    layer_tolerance_A
        Offset along the normal below which a hop stays in its layer, Å.
    """

    def __init__(
        self,
        structure: Structure,
        symprec: float = 0.1,
        tolerance_deg: float = DEFAULT_DIRECTION_TOLERANCE_deg,
        max_index: int = DEFAULT_MAX_MILLER_INDEX,
        plane_hkl: Sequence[int] = (0, 0, 1),
        layer_tolerance_A: float = DEFAULT_LAYER_TOLERANCE_A,
    ) -> None:
        self.lattice = structure.lattice
        self.tolerance_deg = tolerance_deg
        self.max_index = max_index
        self.normal = stacking_normal(structure.lattice, plane_hkl)
        self.layer_tolerance_A = layer_tolerance_A
        # Rotations in the lattice basis (integer matrices) act on [uvw] directly.
        ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations()
        self.rotations = [np.rint(op.rotation_matrix).astype(int) for op in ops]

    def equivalent_directions(self, uvw: Direction) -> tuple[str, ...]:
        """Labels of all point-group images of ``uvw``, sorted."""
        images = {_canonical(rot @ np.asarray(uvw)) for rot in self.rotations}
        return tuple(sorted(format_direction(d) for d in images))

    def hop(
        self, species: str, mechanism: str, start_frac: np.ndarray, end_frac: np.ndarray
    ) -> Hop:
        """Build a labelled :class:`Hop` from its start and (unwrapped) end, fractional."""
        start = np.asarray(start_frac, dtype=float)
        end = np.asarray(end_frac, dtype=float)
        uvw, angle = label_direction(end - start, self.lattice, self.tolerance_deg, self.max_index)
        cart = self.lattice.get_cartesian_coords(end - start)
        offset = abs(float(np.dot(cart, self.normal)))
        return Hop(
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
        )


def _sort_key(hop: Hop) -> tuple:
    """Deterministic order: length, then label, then start position."""
    return (
        round(hop.length_A, 4),
        hop.mechanism,
        hop.direction_label,
        np.round(hop.start_frac, 4).tolist(),
    )


def enumerate_hops(
    structure: Structure,
    species: str = "Li",
    max_hop_length_A: float = DEFAULT_MAX_HOP_LENGTH_A,
    interstitial_frac_coords: Sequence[Sequence[float]] | None = None,
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
        Interstitial positions (fractional) to add ion → interstitial hops for; None: none.
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
    if interstitial_frac_coords is not None:
        hops += _interstitial_hops(
            finder, species, interstitial_frac_coords, max_hop_length_A, labeller
        )
    return sorted(hops, key=_sort_key)


def _interstitial_hops(
    finder: DistinctPathFinder,
    species: str,
    interstitial_frac_coords: Sequence[Sequence[float]],
    max_hop_length_A: float,
    labeller: HopLabeller,
) -> list[Hop]:
    """Hops from each distinct site of ``species`` to each copy of each interstitial in range.

    Copies of one interstitial at the same distance and direction from the same site orbit
    are kept once (a geometric, not a full symmetry, reduction).
    """
    lattice = finder.symm_structure.lattice
    hops: dict[tuple, Hop] = {}
    for sites in finder.symm_structure.equivalent_sites:
        if sites[0].specie.symbol != species:
            continue
        start = sites[0].frac_coords
        for index, position in enumerate(interstitial_frac_coords):
            neighbours = lattice.get_points_in_sphere(
                [np.asarray(position, dtype=float)], sites[0].coords, max_hop_length_A
            )
            for frac, dist, _, _ in neighbours:
                if dist < 1e-3:
                    continue
                hop = labeller.hop(species, "interstitial", start, frac)
                key = (tuple(np.round(start, 4)), index, round(dist, 3), hop.direction)
                hops.setdefault(key, hop)
    return list(hops.values())


def select_hops(
    structure: Structure,
    directions: Sequence[str | Sequence[int]] = STUDY_DIRECTIONS,
    species: str = "Li",
    max_hop_length_A: float = DEFAULT_MAX_HOP_LENGTH_A,
    labeller: HopLabeller | None = None,
    symprec: float = 0.1,
) -> list[Hop]:
    """The shortest vacancy hop along each requested direction, as the copy along it.

    A distinct hop matches a request when one of its symmetry-equivalent copies lies along
    the requested [uvw] (within the labelling tolerance); the returned hop is that copy.

    Raises
    ------
    NebSetupError
        When no hop up to ``max_hop_length_A`` lies along a requested direction.
    """
    labeller = labeller or HopLabeller(structure, symprec=symprec)
    hops = enumerate_hops(structure, species, max_hop_length_A, labeller=labeller, symprec=symprec)
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
                f"{structure.reduced_formula} (hop directions found: {found})"
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
        copy = labeller.hop(hop.species, hop.mechanism, new_start - shift, new_end - shift)
        if copy.direction == target:
            return copy
    raise NebSetupError(f"no symmetry copy of the hop lies along {format_direction(target)}")
