"""Hop mechanism of the mobile ions: site-to-site hops, classed by the layer planes they join.

Rule (documented once, used everywhere):

- **Sites** are the maxima of the mobile ions' time-averaged density (`find_sites`), so vacant
  sites that ions hop into count as well as the initially occupied ones; or a list given by the
  caller (e.g. every Li site of the crystal). Sites closer than 2 r_site are merged, so the
  site spheres never overlap.
- **Basin**: an ion is in a site's basin when it is within ``site_radius_A`` of it (minimum
  image, in that frame's cell); outside every sphere it is in transit.
- **Residence**: an ion is assigned to a site once it has stayed in that basin for
  ``min_residence_frames`` consecutive frames. A **hop** is counted when an ion is assigned to
  a site other than its last assigned one; it is dated at the frame it entered the new basin.
  A vibration out of a sphere and back, or a visit to another site shorter than the
  residence time, is no hop.
- **Layer planes** come from the host cations only (Ti in Li3TiCl6), never from the sites,
  so they are the same at every temperature. The host cations lie on planes perpendicular
  to a unit normal n̂, spaced D (the repeat of like layers) and placed at z_h (their mean
  projection, phase-averaged). Those are the **host layers**; the **mobile layers** lie
  halfway between, so the planes alternate host / mobile every D/2. Plane j sits at
  z_h + j D/2: even j is a host layer, odd j a mobile layer.
- A position z = r·n̂ (unwrapped, so crossing the periodic boundary changes the plane) belongs
  to the **nearest plane**. Tie rule: a position equidistant (within `TIE_TOLERANCE_A`) from
  a host and a mobile plane belongs to the mobile plane. The rule is symmetric in ±n̂ and
  never rounds half-to-even; in a close-packed anion lattice the ties lie on the anion
  planes, where there are no cation sites.
- A hop is **intra-layer** when both sites are on the same plane, else **inter-layer**. Each
  hop has a kind: intra mobile-layer, intra host-layer, mobile→host, host→mobile, or
  mobile→mobile / host→host (across a plane of the other kind in one hop).
- The normal comes from Miller indices (hkl) of the trajectory's cell naming the host planes,
  n̂ ∥ G = h a* + k b* + l c*, D = 1/|G|; or from the host cations (`detect_stacking`): the
  cell axis along which they form the widest-spaced set of planes. Without host positions
  the given (hkl) planes pass through the cell origin (as crystallographic lattice planes do).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from litcl_flows.analysis.rdf import pair_distances_A
from litcl_flows.analysis.trajectory import TransportWarning

if TYPE_CHECKING:
    from litcl_flows.io import Frame

DEFAULT_SITE_RADIUS_A: float = 1.0
DEFAULT_MIN_RESIDENCE_FRAMES: int = 2
#: Layering order parameter |⟨exp(2πi z/D)⟩| above which host projections count as planes.
MIN_LAYER_ORDER: float = 0.8
#: Two plane distances closer than this count as a tie (float round-off, not physics), Å.
TIE_TOLERANCE_A: float = 1e-6
#: Hop kinds, in the order of `HopResult.kind_counts`.
HOP_KINDS: tuple[str, ...] = (
    "intra_mobile_layer",
    "intra_host_layer",
    "mobile_to_host_layer",
    "host_to_mobile_layer",
    "mobile_to_mobile_layer",
    "host_to_host_layer",
)


@dataclass(frozen=True)
class Stacking:
    """Layer planes: unit normal, repeat of like layers and the position of one host plane.

    Attributes
    ----------
    normal
        Unit vector along the stacking direction (Cartesian).
    spacing_A
        Repeat D of like layers (host plane to host plane = mobile plane to mobile plane), Å.
    offset_A
        Projection z_h on the normal of the host plane nearest the origin, in (−D/2, D/2], Å;
        that plane has index 0.
    hkl
        Miller indices of the host planes in the trajectory's cell.
    order
        |⟨exp(2πi (z − z_h)/D)⟩| of the host cations: 1 when every one lies on a host plane;
        None when the planes were placed without host positions (through the cell origin).
    """

    normal: np.ndarray
    spacing_A: float
    offset_A: float
    hkl: tuple[int, int, int]
    order: float | None

    @property
    def plane_spacing_A(self) -> float:
        """Distance between a host plane and the adjacent mobile plane, D/2, Å."""
        return self.spacing_A / 2

    def layer_index(self, positions_A: np.ndarray) -> np.ndarray:
        """Nearest plane j of each position (any leading shape, last axis xyz); even j: host
        layer, odd j: mobile layer; a tie goes to the mobile plane (module docstring)."""
        u = (positions_A @ self.normal - self.offset_A) / self.plane_spacing_A
        below = np.floor(u).astype(np.int64)
        # Distances to the plane below and the one above, in Å, so the tie tolerance is absolute.
        gap_A = (u - below) * self.plane_spacing_A
        excess_A = gap_A - (self.plane_spacing_A - gap_A)
        odd_neighbour = below + np.mod(below + 1, 2)
        return np.where(
            excess_A < -TIE_TOLERANCE_A,
            below,
            np.where(excess_A > TIE_TOLERANCE_A, below + 1, odd_neighbour),
        )

    @staticmethod
    def is_host_layer(index: np.ndarray) -> np.ndarray:
        """True where plane index ``index`` is a host layer (even), False for a mobile one."""
        return np.mod(index, 2) == 0


def _layering(z_A: np.ndarray, spacing_A: float) -> tuple[float, float]:
    """Order parameter and plane offset of projections ``z_A`` at plane spacing ``spacing_A``."""
    phase = np.mean(np.exp(2j * np.pi * z_A / spacing_A))
    return float(abs(phase)), float(np.angle(phase) / (2 * np.pi) * spacing_A)


def miller_normal(cell_A: np.ndarray, hkl: Sequence[int]) -> tuple[np.ndarray, float]:
    """Unit normal and spacing d = 1/|G| of the (hkl) planes of a cell (rows = lattice vectors)."""
    if not any(hkl):
        raise ValueError("Miller indices (0 0 0) name no plane")
    g = np.asarray(hkl, dtype=float) @ np.linalg.inv(cell_A).T
    length = float(np.linalg.norm(g))
    return g / length, 1.0 / length


def stacking_from_miller(
    cell_A: np.ndarray,
    hkl: Sequence[int],
    host_positions_A: np.ndarray | None = None,
    min_order: float = MIN_LAYER_ORDER,
) -> Stacking:
    """Host layers on the (hkl) planes of ``cell_A``, placed on the host cations.

    Without host positions the host planes pass through the cell origin.

    Raises
    ------
    ValueError
        When the host cations do not lie on (hkl) planes (order below ``min_order``).
    """
    normal, spacing = miller_normal(cell_A, hkl)
    hkl_int: tuple[int, int, int] = tuple(int(v) for v in hkl)  # type: ignore[assignment]
    if host_positions_A is None:
        return Stacking(normal, spacing, 0.0, hkl_int, None)
    order, offset = _layering(np.asarray(host_positions_A) @ normal, spacing)
    if order < min_order:
        raise ValueError(
            f"the host cations do not lie on the ({' '.join(map(str, hkl_int))}) planes "
            f"(order {order:.2f} < {min_order:g}): give the Miller indices of the host layers"
        )
    return Stacking(normal, spacing, offset, hkl_int, order)


def detect_stacking(
    cell_A: np.ndarray,
    host_positions_A: np.ndarray,
    max_layers: int = 16,
    min_order: float = MIN_LAYER_ORDER,
) -> Stacking:
    """Stacking direction, host-plane spacing and position from the host cations alone.

    For each cell axis i the host cations' fractional coordinates s_i are tested for m equally
    spaced planes, m = 1…``max_layers``: the smallest m with |⟨exp(2πi m s_i)⟩| ≥ ``min_order``
    gives planes (0…m…0) spaced h_i/m (h_i: the cell's width along a*_i). The axis with the
    widest host spacing is the stacking direction (layered hosts stack their layers farthest
    apart); the mobile layers lie halfway between the host planes.

    Raises
    ------
    ValueError
        When the host cations form no planes along any cell axis.
    """
    frac = host_positions_A @ np.linalg.inv(cell_A)
    best: tuple[float, int, int] | None = None
    for axis in range(3):
        for m in range(1, max_layers + 1):
            order = abs(np.mean(np.exp(2j * np.pi * m * frac[:, axis])))
            if order >= min_order:
                _, spacing = miller_normal(cell_A, np.eye(3, dtype=int)[axis] * m)
                if best is None or spacing > best[0] * (1 + 1e-6):
                    best = (spacing, axis, m)
                break
    if best is None:
        raise ValueError(
            f"the host atoms form no planes along any cell axis (order < {min_order:g} "
            f"for up to {max_layers} layers): give the stacking plane as Miller indices"
        )
    _, axis, m = best
    return stacking_from_miller(
        cell_A, np.eye(3, dtype=int)[axis] * m, host_positions_A, min_order=min_order
    )


def find_sites(
    positions_A: np.ndarray,
    cells_A: np.ndarray,
    site_radius_A: float = DEFAULT_SITE_RADIUS_A,
    voxel_A: float = 0.2,
    smoothing_A: float = 0.3,
    min_density_ratio: float = 5.0,
    max_points: int = 10_000_000,
) -> np.ndarray:
    """Sites as maxima of the mobile ions' time-averaged density, in fractional coordinates.

    The ions' wrapped fractional positions (every k-th frame, at most ``max_points`` points)
    are histogrammed on a periodic grid of ~``voxel_A`` voxels and smoothed by a Gaussian of
    ``smoothing_A``; a site is a local maximum within ``site_radius_A`` whose density exceeds
    ``min_density_ratio`` × the cell-average density (an ion localised in ~1 Å³ of a site
    raises it ~50–100× above the average; a saddle between sites is no maximum). Maxima closer
    than 2 × ``site_radius_A`` are merged, the denser one kept.

    Returns
    -------
    np.ndarray
        Shape (n_sites, 3), fractional coordinates in [0, 1).
    """
    from scipy import ndimage

    n_frames, n_ions, _ = positions_A.shape
    cell = cells_A.mean(axis=0)
    widths = abs(np.linalg.det(cell)) / np.linalg.norm(
        np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1
    )
    shape = np.maximum(np.ceil(widths / voxel_A).astype(int), 1)
    counts = np.zeros(int(np.prod(shape)), dtype=np.int64)
    stride = max(1, int(np.ceil(n_frames * n_ions / max_points)))
    for t in range(0, n_frames, stride):
        frac = np.mod(positions_A[t] @ np.linalg.inv(cells_A[t]), 1.0)
        cells = np.minimum((frac * shape).astype(np.int64), shape - 1)
        counts += np.bincount(np.ravel_multi_index(cells.T, shape), minlength=len(counts))
    density = ndimage.gaussian_filter(
        counts.reshape(shape).astype(np.float32), sigma=smoothing_A / (widths / shape), mode="wrap"
    )
    footprint = 2 * np.ceil(site_radius_A / (widths / shape)).astype(int) + 1
    peaks = (density == ndimage.maximum_filter(density, size=footprint, mode="wrap")) & (
        density > min_density_ratio * density.mean()
    )
    index = np.argwhere(peaks)
    heights = density[peaks]
    candidates = (index + 0.5) / shape
    order = np.argsort(-heights, kind="stable")
    candidates = candidates[order]
    # Greedy merge, densest first: drop any maximum within 2 r of an already kept one.
    i, j, _ = pair_distances_A(cell, candidates @ cell, candidates @ cell, 2 * site_radius_A)
    close = [[] for _ in range(len(candidates))]
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        if a != b:
            close[a].append(b)
    kept = np.ones(len(candidates), bool)
    for a in range(len(candidates)):
        if kept[a]:
            for b in close[a]:
                if b > a:
                    kept[b] = False
    return candidates[kept]


@dataclass(frozen=True)
class HopResult:
    """Hops of the mobile ions between sites, classed by layer planes (rule: module docstring).

    Attributes
    ----------
    sites_frac
        Site positions, fractional, shape (n_sites, 3).
    stacking
        Layer planes.
    site_layer
        Plane index of every site (wrapped into the cell), shape (n_sites,); even: host layer.
    layer_index
        Plane of every ion's (unwrapped) position in every frame, shape (n_frames, n_ions).
    hop_ion, hop_frame, hop_from_site, hop_to_site, hop_from_layer, hop_to_layer
        One entry per hop, in time order: the ion, the frame it entered the new basin, the
        two sites and their planes (unwrapped: the site images the ion left and reached).
    site_radius_A, min_residence_frames
        The rule's parameters.
    """

    sites_frac: np.ndarray
    stacking: Stacking
    site_layer: np.ndarray
    layer_index: np.ndarray
    hop_ion: np.ndarray
    hop_frame: np.ndarray
    hop_from_site: np.ndarray
    hop_to_site: np.ndarray
    hop_from_layer: np.ndarray
    hop_to_layer: np.ndarray
    site_radius_A: float
    min_residence_frames: int

    @property
    def n_ions(self) -> int:
        return self.layer_index.shape[1]

    @property
    def n_hops(self) -> int:
        return len(self.hop_ion)

    @property
    def n_inter_layer(self) -> int:
        return int(np.count_nonzero(self.hop_from_layer != self.hop_to_layer))

    @property
    def n_intra_layer(self) -> int:
        return self.n_hops - self.n_inter_layer

    @property
    def hops_per_ion(self) -> np.ndarray:
        """Number of hops of each ion, shape (n_ions,)."""
        return np.bincount(self.hop_ion, minlength=self.n_ions)

    @property
    def hop_kind(self) -> np.ndarray:
        """Kind of every hop, an index into `HOP_KINDS`, shape (n_hops,)."""
        from_host = Stacking.is_host_layer(self.hop_from_layer)
        to_host = Stacking.is_host_layer(self.hop_to_layer)
        same = self.hop_from_layer == self.hop_to_layer
        # Same plane: 0 mobile, 1 host; other plane: 2 + 2·(both same kind) + (starts on host).
        crossing = 2 + 2 * (from_host == to_host) + from_host
        return np.where(same, from_host.astype(np.int64), crossing)

    def kind_counts(self) -> dict[str, int]:
        """Number of hops of each kind in `HOP_KINDS`."""
        counts = np.bincount(self.hop_kind, minlength=len(HOP_KINDS))
        return {kind: int(n) for kind, n in zip(HOP_KINDS, counts, strict=True)}

    def to_json_dict(self) -> dict[str, object]:
        """Counts, the layer geometry and the rule's parameters as plain JSON."""
        n_host_sites = int(np.count_nonzero(Stacking.is_host_layer(self.site_layer)))
        return {
            "n_sites": len(self.sites_frac),
            "n_mobile_layer_sites": len(self.sites_frac) - n_host_sites,
            "n_host_layer_sites": n_host_sites,
            "n_hops": self.n_hops,
            "n_intra_layer_hops": self.n_intra_layer,
            "n_inter_layer_hops": self.n_inter_layer,
            **{f"n_{kind}_hops": n for kind, n in self.kind_counts().items()},
            "hops_per_ion": self.n_hops / self.n_ions,
            "stacking_hkl": list(self.stacking.hkl),
            "layer_spacing_A": self.stacking.spacing_A,
            "plane_spacing_A": self.stacking.plane_spacing_A,
            "host_plane_offset_A": self.stacking.offset_A,
            "host_layer_order": self.stacking.order,
            "site_radius_A": self.site_radius_A,
            "min_residence_frames": self.min_residence_frames,
        }


def count_hops(
    positions_A: np.ndarray,
    cells_A: np.ndarray,
    stacking: Stacking | Sequence[int] | None = None,
    host_positions_A: np.ndarray | None = None,
    sites_frac: np.ndarray | None = None,
    site_radius_A: float = DEFAULT_SITE_RADIUS_A,
    min_residence_frames: int = DEFAULT_MIN_RESIDENCE_FRAMES,
    min_hops_per_ion: float = 1.0,
) -> HopResult:
    """Site-to-site hops of every ion, classed by the layer planes of their two sites.

    Parameters
    ----------
    positions_A
        Unwrapped positions of the mobile ions, shape (T, N, 3), Å (`MobileTrajectory`).
    cells_A
        Cell of every frame, shape (T, 3, 3), Å.
    stacking
        A `Stacking`, Miller indices (h, k, l) of the host-layer planes in this cell, or None
        to detect them from ``host_positions_A`` (`detect_stacking`).
    host_positions_A
        Host cation positions (e.g. Ti, first frame), shape (M, 3): they place the host
        planes. Needed when ``stacking`` is None; with Miller indices and no host positions
        the host planes pass through the cell origin.
    sites_frac
        Site positions, fractional; default `find_sites` on this trajectory.
    site_radius_A
        Radius of a site's basin; must be below half the nearest site–site distance.
    min_residence_frames
        Consecutive frames in a new basin before the ion counts as moved there.
    min_hops_per_ion
        Warn (`TransportWarning`) when the run has fewer hops than this per ion: too few
        events for diffusive statistics.

    Returns
    -------
    HopResult
    """
    n_ions = positions_A.shape[1]
    if min_residence_frames < 1:
        raise ValueError("min_residence_frames must be at least 1")
    if sites_frac is None:
        sites_frac = find_sites(positions_A, cells_A, site_radius_A)
    sites_frac = np.mod(np.asarray(sites_frac, dtype=float), 1.0)
    if len(sites_frac) == 0:
        raise ValueError("no sites: the mobile ions never stay anywhere")
    mean_cell = cells_A.mean(axis=0)
    stacking = _resolve_stacking(stacking, mean_cell, host_positions_A)
    layer_index, table = _track_sites(
        positions_A, cells_A, stacking, sites_frac, site_radius_A, min_residence_frames
    )
    result = HopResult(
        sites_frac=sites_frac,
        stacking=stacking,
        site_layer=stacking.layer_index(sites_frac @ mean_cell),
        layer_index=layer_index,
        hop_ion=table[:, 0],
        hop_frame=table[:, 1],
        hop_from_site=table[:, 2],
        hop_to_site=table[:, 3],
        hop_from_layer=table[:, 4],
        hop_to_layer=table[:, 5],
        site_radius_A=float(site_radius_A),
        min_residence_frames=int(min_residence_frames),
    )
    if result.n_hops < min_hops_per_ion * n_ions:
        warnings.warn(
            f"only {result.n_hops} hop events among {n_ions} ions (< {min_hops_per_ion:g} per "
            "ion): too few for diffusive statistics; the run is probably too short or too cold",
            TransportWarning,
            stacklevel=2,
        )
    return result


def _resolve_stacking(
    stacking: Stacking | Sequence[int] | None,
    mean_cell_A: np.ndarray,
    host_positions_A: np.ndarray | None,
) -> Stacking:
    """The host-layer stacking: as given, from Miller indices, or detected from the host."""
    if isinstance(stacking, Stacking):
        return stacking
    if stacking is not None:
        return stacking_from_miller(mean_cell_A, stacking, host_positions_A)
    if host_positions_A is None:
        raise ValueError("give the stacking plane (hkl) or host positions to detect it")
    return detect_stacking(mean_cell_A, host_positions_A)


def _track_sites(
    positions_A: np.ndarray,
    cells_A: np.ndarray,
    stacking: Stacking,
    sites_frac: np.ndarray,
    site_radius_A: float,
    min_residence_frames: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Layer index of every ion and frame, and the hop table in time order.

    Table columns: ion, frame the ion entered its new site, from site, to site, from layer,
    to layer. A hop counts once the ion has stayed ``min_residence_frames`` in the new basin.
    """
    n_frames, n_ions, _ = positions_A.shape
    layer_index = np.empty((n_frames, n_ions), dtype=np.int16)
    assigned = np.full(n_ions, -1)
    assigned_layer = np.zeros(n_ions, dtype=np.int64)
    pending = np.full(n_ions, -1)
    pending_layer = np.zeros(n_ions, dtype=np.int64)
    pending_start = np.zeros(n_ions, dtype=np.int64)
    count = np.zeros(n_ions, dtype=np.int64)
    events: list[np.ndarray] = []
    for t in range(n_frames):
        position = positions_A[t]
        cell = cells_A[t]
        layer_index[t] = stacking.layer_index(position)
        candidate, snapped_A = _nearest_site(position, cell, sites_frac, site_radius_A)
        # Layer of the site itself (continued to the ion's image), not of the vibrating ion.
        candidate_layer = stacking.layer_index(snapped_A)
        same = (candidate == pending) & (candidate >= 0)
        count = np.where(same, count + 1, (candidate >= 0).astype(np.int64))
        pending_layer = np.where(same, pending_layer, candidate_layer)
        pending_start = np.where(same, pending_start, t)
        pending = candidate
        confirmed = (count >= min_residence_frames) & (pending != assigned)
        hopped = np.flatnonzero(confirmed & (assigned >= 0))
        if len(hopped):
            events.append(
                np.column_stack(
                    [
                        hopped,
                        pending_start[hopped],
                        assigned[hopped],
                        pending[hopped],
                        assigned_layer[hopped],
                        pending_layer[hopped],
                    ]
                )
            )
        assigned = np.where(confirmed, pending, assigned)
        assigned_layer = np.where(confirmed, pending_layer, assigned_layer)
    table = np.concatenate(events) if events else np.zeros((0, 6), dtype=np.int64)
    return layer_index, table[np.argsort(table[:, 1], kind="stable")]


def _nearest_site(
    positions_A: np.ndarray, cell_A: np.ndarray, sites_frac: np.ndarray, radius_A: float
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest site within ``radius_A`` of every ion (−1 if none) and the site's position
    continued to the ion's unwrapped image (the ion's own position when in transit)."""
    sites = sites_frac @ cell_A
    ion, site, distance = pair_distances_A(cell_A, positions_A, sites, radius_A)
    candidate = np.full(len(positions_A), -1)
    snapped = positions_A.copy()
    if len(ion):
        order = np.lexsort((distance, ion))
        ion, site = ion[order], site[order]
        first = np.ones(len(ion), bool)
        first[1:] = ion[1:] != ion[:-1]
        ion, site = ion[first], site[first]
        candidate[ion] = site
        # Site image next to the unwrapped ion: ion + minimum-image vector to the site.
        delta = (sites[site] - positions_A[ion]) @ np.linalg.inv(cell_A)
        snapped[ion] = positions_A[ion] + (delta - np.rint(delta)) @ cell_A
    return candidate, snapped


def displacement_traces(
    positions_A: np.ndarray, normal: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-ion displacement from the first frame vs time, for hop-trace plots.

    Returns ``(|r(t) − r(0)|, (r(t) − r(0))·n̂ or None)``, each of shape (T, N), Å.
    """
    delta = positions_A - positions_A[:1]
    along = None if normal is None else delta @ (normal / np.linalg.norm(normal))
    return np.linalg.norm(delta, axis=-1), along


def host_positions_A(
    frame: Frame, mobile: str, host: str | None = None, optional: bool = False
) -> np.ndarray | None:
    """Host cation positions that place the layer planes: ``host`` species, else the
    non-mobile metals (Ti in Li3TiCl6), else every non-mobile atom. A frame without any
    gives None when ``optional`` (e.g. a mobile-only dump with the planes given as Miller
    indices), else a ValueError."""
    from pymatgen.core import Element

    others = {s for s in frame.symbols.tolist() if s != mobile}
    if host:
        chosen = {h.strip() for h in host.split(",")}
    else:
        metals = {s for s in others if Element.is_valid_symbol(s) and Element(s).is_metal}
        chosen = metals or others
    mask = np.isin(frame.symbols, list(chosen))
    if optional and not host and not mask.any():
        return None
    if not mask.any():
        raise ValueError(f"no host atoms {','.join(sorted(chosen))} to detect the stacking from")
    return frame.positions_A[mask]
