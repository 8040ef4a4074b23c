"""Partial radial distribution functions g_AB(r) of periodic (triclinic) cells, over frames.

Pair distances come from pymatgen's Cython cell-list search
(``pymatgen.optimization.neighbors.find_points_in_spheres``, the engine behind
``Structure.get_neighbor_list``), which takes the centre atoms (A) and the neighbour atoms (B)
as separate sets and handles any triclinic lattice. The alternatives were measured on 6,000
centres among 20,000 atoms at r = 8 Å: pymatgen 0.2 s, MDAnalysis ``capped_distance`` 1.3 s,
ASE ``primitive_neighbor_list`` 62 s; ASE's ``get_rdf`` also loops over atoms in Python and
needs an ``Atoms`` object per frame. The histogram and the normalisation below are the few
lines no library offers in streaming form.

Normalisation (one frame, volume V): g_AB(r) = V · n_AB(r) / (N_A · N_B' · ΔV_shell(r)), with
n_AB(r) the number of ordered (A, B) pairs in the shell, ΔV_shell = 4π/3 (r₂³ − r₁³) and
N_B' = N_B for A ≠ B, N_A − 1 for A = B (self-pairs excluded). g → 1 for an ideal gas at
every r. Frames are averaged after normalising each by its own volume (NPT cells change).
Valid for r_max ≤ half the smallest perpendicular width of the cell: then every pair appears
once (its minimum image) and no atom sees its own image.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from litcl_flows.io.frames import Frame


def max_rdf_radius_A(cell_A: np.ndarray) -> float:
    """Half the smallest perpendicular width of the cell: the largest valid r_max, Å."""
    volume = abs(float(np.linalg.det(cell_A)))
    areas = [np.linalg.norm(np.cross(cell_A[(i + 1) % 3], cell_A[(i + 2) % 3])) for i in range(3)]
    return 0.5 * volume / float(max(areas))


def pair_distances_A(
    cell_A: np.ndarray, centres_A: np.ndarray, neighbours_A: np.ndarray, r_max_A: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All periodic (centre, neighbour) pairs closer than ``r_max_A``.

    Returns ``(centre_index, neighbour_index, distance_A)``. Pairs at distance 0 with the same
    index are kept (the caller removes self-pairs); every periodic image within the radius
    appears, so r_max beyond `max_rdf_radius_A` counts some pairs more than once.
    """
    from pymatgen.optimization.neighbors import find_points_in_spheres

    inverse = np.linalg.inv(cell_A)
    # Wrapped Cartesian copies: the cell-list search bins points by their fractional position.
    centres = np.ascontiguousarray((np.mod(centres_A @ inverse, 1.0)) @ cell_A)
    neighbours = np.ascontiguousarray((np.mod(neighbours_A @ inverse, 1.0)) @ cell_A)
    i, j, _, d = find_points_in_spheres(
        neighbours,
        centres,
        float(r_max_A),
        np.ones(3, dtype=np.int64),
        np.ascontiguousarray(cell_A, dtype=np.float64),
        1e-8,
    )
    keep = d < r_max_A
    return i[keep], j[keep], d[keep]


@dataclass(frozen=True)
class RDF:
    """Frame-averaged partial g_AB(r) of one element pair (see module docstring).

    Attributes
    ----------
    pair
        ``(A, B)``: centre and neighbour elements.
    r_edges_A
        Bin edges, shape (n_bins + 1,), Å, from 0 to r_max.
    g
        g(r) per bin, shape (n_bins,).
    pair_density_A3
        ⟨N_B' / V⟩ over the frames, Å⁻³: the density that turns g into neighbour counts.
    n_frames
        Frames averaged.
    """

    pair: tuple[str, str]
    r_edges_A: np.ndarray
    g: np.ndarray
    pair_density_A3: float
    n_frames: int

    @property
    def r_A(self) -> np.ndarray:
        """Bin centres, Å."""
        return 0.5 * (self.r_edges_A[1:] + self.r_edges_A[:-1])

    @property
    def label(self) -> str:
        return f"{self.pair[0]}-{self.pair[1]}"

    def running_coordination(self) -> np.ndarray:
        """n(r) = ∫₀ʳ 4πr'² ρ_B g(r') dr' at the upper bin edges: mean B neighbours within r."""
        shells = 4.0 / 3.0 * np.pi * np.diff(self.r_edges_A**3)
        return np.cumsum(self.g * shells) * self.pair_density_A3

    def first_shell(self, threshold: float = 1.0) -> FirstShell:
        """First peak and the coordination number up to the first minimum after it.

        The first peak is the maximum of the first run of bins where g exceeds
        ``threshold``; the first minimum is the smallest g between that peak and the next
        rise above ``threshold`` (or r_max). The coordination number integrates 4πr²ρg from 0
        to the minimum's bin centre.

        Raises
        ------
        ValueError
            When g never exceeds ``threshold`` (no structure to speak of).
        """
        above = self.g > threshold
        if not above.any():
            raise ValueError(f"{self.label}: g(r) never exceeds {threshold:g}: no first peak")
        start = int(np.argmax(above))
        end = start + int(np.argmin(above[start:])) if not above[start:].all() else len(self.g)
        peak = start + int(np.argmax(self.g[start:end]))
        rises = np.flatnonzero(above[end:])
        stop = end + int(rises[0]) if len(rises) else len(self.g)
        minimum = end + int(np.argmin(self.g[end:stop])) if stop > end else len(self.g) - 1
        running = self.running_coordination()
        before = running[minimum - 1] if minimum > 0 else 0.0
        coordination = before + 0.5 * (running[minimum] - before)
        return FirstShell(
            peak_r_A=float(self.r_A[peak]),
            peak_g=float(self.g[peak]),
            minimum_r_A=float(self.r_A[minimum]),
            coordination_number=float(coordination),
        )

    def to_json_dict(self) -> dict[str, object]:
        """Plain-JSON form: bin centres, g, first-shell figures."""
        out: dict[str, object] = {
            "r_A": self.r_A.tolist(),
            "g": self.g.tolist(),
            "n_frames": self.n_frames,
        }
        try:
            shell = self.first_shell()
        except ValueError:
            return out
        out.update(
            first_peak_r_A=shell.peak_r_A,
            first_peak_g=shell.peak_g,
            first_minimum_r_A=shell.minimum_r_A,
            coordination_number=shell.coordination_number,
        )
        return out


@dataclass(frozen=True)
class FirstShell:
    """First-neighbour shell of an RDF: peak position and height, minimum, coordination."""

    peak_r_A: float
    peak_g: float
    minimum_r_A: float
    coordination_number: float


class RDFAccumulator:
    """Averages g_AB(r) over frames fed one at a time (``add``), for several pairs at once.

    Parameters
    ----------
    pairs
        Element pairs ``(A, B)``; ``(A, A)`` excludes self-pairs.
    r_max_A
        Outer radius; at most `max_rdf_radius_A` of every frame's cell (checked per frame).
        None: that limit for the first frame's cell.
    n_bins
        Number of equal bins on [0, r_max).
    """

    def __init__(
        self, pairs: Sequence[tuple[str, str]], r_max_A: float | None = None, n_bins: int = 200
    ) -> None:
        if n_bins < 1:
            raise ValueError("n_bins must be positive")
        self.pairs = [(str(a), str(b)) for a, b in pairs]
        self.r_max_A = r_max_A
        self.n_bins = n_bins
        self._g_sum = np.zeros((len(self.pairs), n_bins))
        self._density_sum = np.zeros(len(self.pairs))
        self.n_frames = 0

    def add(self, frame: Frame) -> None:
        """Histogram one frame's pair distances, normalised by its own volume."""
        limit = max_rdf_radius_A(frame.cell_A)
        if self.r_max_A is None:
            self.r_max_A = limit
        if self.r_max_A > limit * (1 + 1e-12):
            raise ValueError(
                f"frame at step {frame.step}: r_max {self.r_max_A:g} Å exceeds half the "
                f"smallest cell width ({limit:.4g} Å); pairs would be counted twice"
            )
        volume = abs(float(np.linalg.det(frame.cell_A)))
        edges = np.linspace(0.0, self.r_max_A, self.n_bins + 1)
        shells = 4.0 / 3.0 * np.pi * np.diff(edges**3)
        for k, (a, b) in enumerate(self.pairs):
            is_a, is_b = frame.symbols == a, frame.symbols == b
            n_a, n_b = int(is_a.sum()), int(is_b.sum())
            if n_a == 0 or n_b == 0:
                present = ", ".join(sorted(set(frame.symbols.tolist())))
                raise ValueError(f"no {a}-{b} pairs: species present are {present}")
            i, j, d = pair_distances_A(
                frame.cell_A, frame.positions_A[is_a], frame.positions_A[is_b], self.r_max_A
            )
            if a == b:
                d = d[i != j]
            n_b_other = n_b - 1 if a == b else n_b
            counts = np.bincount(
                np.minimum((d * (self.n_bins / self.r_max_A)).astype(np.int64), self.n_bins - 1),
                minlength=self.n_bins,
            )
            if n_b_other > 0:
                self._g_sum[k] += counts * volume / (n_a * n_b_other * shells)
            self._density_sum[k] += n_b_other / volume
        self.n_frames += 1

    def results(self) -> dict[tuple[str, str], RDF]:
        """The frame-averaged RDF of every pair."""
        if self.n_frames == 0 or self.r_max_A is None:
            raise ValueError("no frames were added to the RDF")
        edges = np.linspace(0.0, self.r_max_A, self.n_bins + 1)
        return {
            pair: RDF(
                pair=pair,
                r_edges_A=edges,
                g=self._g_sum[k] / self.n_frames,
                pair_density_A3=float(self._density_sum[k] / self.n_frames),
                n_frames=self.n_frames,
            )
            for k, pair in enumerate(self.pairs)
        }


def compute_rdf(
    frames: Iterable[Frame],
    pairs: Sequence[tuple[str, str]],
    r_max_A: float | None = None,
    n_bins: int = 200,
    stride: int = 1,
) -> dict[tuple[str, str], RDF]:
    """Frame-averaged partial RDFs of ``pairs`` over a frame stream (every ``stride``-th frame).

    See `RDFAccumulator` for the parameters; frames must hold both species of every pair.
    """
    accumulator = RDFAccumulator(pairs, r_max_A, n_bins)
    for index, frame in enumerate(frames):
        if index % stride == 0:
            accumulator.add(frame)
    return accumulator.results()


def parse_pairs(text: str, species: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Pairs from ``"Li-Li,Cl-Li"``; ``"all"`` gives every unordered pair of ``species``."""
    if text.strip().lower() == "all":
        if species is None:
            raise ValueError("'all' pairs needs the species present")
        names = sorted(set(species))
        return [(a, b) for n, a in enumerate(names) for b in names[n:]]
    pairs = []
    for item in text.split(","):
        parts = [p.strip() for p in item.split("-")]
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"bad RDF pair {item!r}: write pairs as A-B, e.g. Li-Cl")
        pairs.append((parts[0], parts[1]))
    return pairs


def rdf_similarity(first: RDF, second: RDF) -> float:
    """Similarity in [0, 1]: 1 − ∫|g₁ − g₂| dr / ∫(g₁ + g₂) dr over the common radii.

    1 means identical, 0 disjoint supports (a normalised L1 distance; g ≥ 0, so the
    denominator bounds the numerator). ``second`` is interpolated linearly onto ``first``'s
    bin centres up to the smaller r_max; both grids are uniform, so the sums stand in for the
    integrals.
    """
    r_end = min(first.r_edges_A[-1], second.r_edges_A[-1])
    r = first.r_A[first.r_A <= r_end]
    g1 = first.g[: len(r)]
    g2 = np.interp(r, second.r_A, second.g)
    total = float(np.sum(g1 + g2))
    if total == 0.0:
        return 1.0
    return 1.0 - float(np.sum(np.abs(g1 - g2))) / total
