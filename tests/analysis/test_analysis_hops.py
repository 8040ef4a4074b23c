"""Hop counting and layer indices on synthetic trajectories with scripted hops."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from litcl_flows.analysis.hops import (
    count_hops,
    detect_stacking,
    displacement_traces,
    miller_normal,
)
from litcl_flows.analysis.trajectory import TransportWarning

# Layered lattice in a 12 × 12 × 16 Å cell: mobile sites on a 3 Å square grid in planes
# z = 1, 5, 9, 13, host "Ti" planes at z = 3, 7, 11, 15 ((0 0 4) planes of the cell, 4 Å apart
# along z, but only 3 Å apart along x and y). Planes every 2 Å, host and mobile alternating.
CELL = np.diag([12.0, 12.0, 16.0])
GRID = np.array([(i, j, k) for i in range(4) for j in range(4) for k in range(4)])


def _site(ijk: np.ndarray) -> np.ndarray:
    """Unwrapped position of lattice site (i, j, k); indices beyond the cell are images."""
    ijk = np.asarray(ijk, dtype=float)
    return np.array([1.5 + 3 * ijk[0], 1.5 + 3 * ijk[1], 1.0 + 4 * ijk[2]])


HOST = np.array([[1.5 + 3 * i, 1.5 + 3 * j, 3.0 + 4 * k] for i, j, k in GRID])
N_FRAMES = 240

#: (ion, frame, step in lattice units, inter-layer?). A step in z jumps from one mobile plane
#: to the next, over a host plane. Ions start on the sites with i+j+k even
#: (32 of 64); every step lands on an odd, vacant site (also across the periodic boundaries,
#: since each axis has an even number of sites). The ion is mid-way (in transit) at
#: `frame`, in the new site from frame + 1.
SCRIPT = [
    (0, 40, (1, 0, 0), False),
    (1, 60, (0, 0, 1), True),
    (2, 70, (-1, 0, 0), False),  # ion 2 sits at i = 0: crosses the periodic x boundary
    (3, 80, (0, 0, 1), True),  # ion 3 sits at k = 3: crosses z, layer 3 → 4
    (4, 90, (0, 1, 0), False),
    (4, 170, (0, -1, 0), False),  # and back: a second hop
]


def _scripted(sigma_A: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    even = GRID[GRID.sum(axis=1) % 2 == 0]
    # Ion 2 starts at i = 0 and ion 3 at k = 3, where their scripted steps cross the boundary.
    first = [(1, 1, 0), (2, 0, 0), (0, 2, 2), (1, 0, 3)]
    rest = [x for x in even.tolist() if tuple(x) not in first]
    start = np.array(first + rest)
    lattice = np.repeat(start[None].astype(float), N_FRAMES, axis=0)
    transit = np.zeros((N_FRAMES, len(start), 3))
    for ion, frame, step, _ in SCRIPT:
        lattice[frame:, ion] += step
        transit[frame, ion] = -0.5 * np.asarray(step, dtype=float)
    positions = np.array([[_site(x) for x in row] for row in lattice])
    positions += transit * [3.0, 3.0, 4.0]
    # Ion 5 visits a neighbour site for one frame (shorter than the residence time) and comes
    # back; ion 6 sits in transit for three frames and comes back: neither is a hop.
    positions[100, 5, 0] += 3.0
    positions[120:123, 6, 1] += 1.5
    positions += rng.normal(0.0, sigma_A, positions.shape)
    return positions, np.repeat(CELL[None], N_FRAMES, axis=0)


def _expected() -> tuple[int, int, np.ndarray]:
    inter = sum(1 for *_, is_inter in SCRIPT if is_inter)
    per_ion = np.bincount([ion for ion, *_ in SCRIPT], minlength=32)
    return len(SCRIPT) - inter, inter, per_ion


@pytest.mark.parametrize("stacking", [(0, 0, 4), None], ids=["miller", "detected"])
def test_scripted_hops_are_counted_and_split(stacking: tuple[int, int, int] | None) -> None:
    positions, cells = _scripted()
    result = count_hops(
        positions, cells, stacking=stacking, host_positions_A=HOST, min_hops_per_ion=0.0
    )
    intra, inter, per_ion = _expected()
    assert (result.n_intra_layer, result.n_inter_layer) == (intra, inter)
    kinds = result.kind_counts()
    assert (kinds.pop("intra_mobile_layer"), kinds.pop("mobile_to_mobile_layer")) == (4, 2)
    assert set(kinds.values()) == {0}
    assert np.array_equal(result.hops_per_ion, per_ion)
    # A hop is dated at the first frame in the new basin.
    assert result.hop_frame.tolist() == [frame + 1 for _, frame, *_ in SCRIPT]
    assert result.hop_ion.tolist() == [ion for ion, *_ in SCRIPT]
    assert result.stacking.hkl == (0, 0, 4)
    assert result.stacking.spacing_A == pytest.approx(4.0)
    assert np.allclose(np.abs(result.stacking.normal), [0, 0, 1])
    # Host planes on the host atoms, z = 3 + 4k; mobile planes halfway, z = 1 + 4k.
    assert (result.stacking.offset_A - 3.0 + 2.0) % 4.0 - 2.0 == pytest.approx(0.0, abs=1e-9)
    assert result.stacking.plane_spacing_A == pytest.approx(2.0)
    # Ion 3 crossed the periodic z boundary from z = 13 to 17: two planes up, not back to z = 1.
    first, last = result.layer_index[0, 3], result.layer_index[-1, 3]
    assert last == first + 2 and first % 2 == 1
    assert result.layer_index[-1, 1] == result.layer_index[0, 1] + 2
    assert result.to_json_dict()["n_hops"] == len(SCRIPT)


def test_given_sites_and_residence_time_of_one_frame() -> None:
    positions, cells = _scripted()
    sites = np.array([_site(x) for x in GRID]) @ np.linalg.inv(CELL)
    result = count_hops(positions, cells, (0, 0, 4), sites_frac=sites, min_hops_per_ion=0.0)
    assert result.n_hops == len(SCRIPT)
    assert len(result.sites_frac) == 64
    # With no residence filter ion 5's one-frame visit is two hops (there and back).
    loose = count_hops(
        positions, cells, (0, 0, 4), sites_frac=sites, min_residence_frames=1, min_hops_per_ion=0
    )
    assert loose.n_hops == len(SCRIPT) + 2
    assert np.count_nonzero(loose.hop_ion == 5) == 2


def test_vibrations_only_give_no_hops_and_a_warning() -> None:
    rng = np.random.default_rng(3)
    lattice = np.array([_site(x) for x in GRID])
    # σ = 0.3 Å: ~1 % of frames put an ion outside its 1 Å sphere, but it always comes back.
    positions = lattice + rng.normal(0.0, 0.3, (300, len(GRID), 3))
    outside = np.linalg.norm(positions - lattice, axis=-1) > 1.0
    assert outside.any()
    with pytest.warns(TransportWarning, match="only 0 hop events among 64 ions"):
        result = count_hops(
            positions, np.repeat(CELL[None], 300, axis=0), (0, 0, 4), host_positions_A=HOST
        )
    assert result.n_hops == 0
    assert len(result.sites_frac) == 64
    # Plane 0 is the host plane nearest the origin, z = −1 (≡ 15), so the mobile plane
    # z = 1 + 4k is plane 2k + 1. A 1 Å excursion along z (3.3 σ) reaches the next plane in
    # ~0.1 % of frames.
    expected = np.broadcast_to(2 * GRID[:, 2] + 1, (300, 64))
    assert np.mean(result.layer_index == expected) > 0.99
    assert np.array_equal(np.median(result.layer_index, axis=0), expected[0])
    assert sorted(result.site_layer.tolist()) == sorted(expected[0].tolist())


def test_miller_spacing_of_a_hexagonal_cell() -> None:
    # Hexagonal a = 3, c = 5 (γ = 120°): d(100) = a√3/2, d(001) = c, d(110) = a/2.
    a, c = 3.0, 5.0
    cell = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    assert miller_normal(cell, (1, 0, 0))[1] == pytest.approx(a * np.sqrt(3) / 2)
    assert miller_normal(cell, (0, 0, 1))[1] == pytest.approx(c)
    assert miller_normal(cell, (1, 1, 0))[1] == pytest.approx(a / 2)
    normal, _ = miller_normal(cell, (1, 0, 0))
    # The (100) normal is perpendicular to b and c.
    assert normal @ cell[1] == pytest.approx(0.0, abs=1e-12)
    assert normal @ cell[2] == pytest.approx(0.0, abs=1e-12)


def test_unlayered_host_is_rejected() -> None:
    host = np.random.default_rng(0).uniform(0, 12, (400, 3))
    with pytest.raises(ValueError, match="form no planes"):
        detect_stacking(CELL, host, max_layers=6)


def test_displacement_traces() -> None:
    positions, _ = _scripted(sigma_A=0.0)
    total, along = displacement_traces(positions, np.array([0.0, 0.0, 2.0]))
    assert total.shape == along.shape == (N_FRAMES, 32)
    assert along[-1, 1] == pytest.approx(4.0) and total[-1, 0] == pytest.approx(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert displacement_traces(positions)[1] is None
