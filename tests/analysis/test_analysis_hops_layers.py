"""Layer classes of hops fixed by the host cations, on a Li3TiCl6-like C2/m supercell with
scripted hops whose kinds are counted by hand, and on the built-in Li3TiCl6 cell."""

from __future__ import annotations

import math

import numpy as np
import pytest

from litcl_flows.analysis.hops import (
    HOP_KINDS,
    Stacking,
    count_hops,
    detect_stacking,
    stacking_from_miller,
)

# Conventional C2/m cell of the built-in CIF (a, b, c in Å, β in degrees), typed in by hand.
A_A, B_A, C_A, BETA_DEG = 6.350, 10.88, 6.337, 110.2
BETA = math.radians(BETA_DEG)
UNIT_CELL = np.array(
    [[A_A, 0.0, 0.0], [0.0, B_A, 0.0], [C_A * math.cos(BETA), 0.0, C_A * math.sin(BETA)]]
)
#: 2 × 2 × 2 supercell (the study's 160-atom cell): cation planes at z = 0, 1/4, 1/2, 3/4 of it.
SUPERCELL = UNIT_CELL * 2
#: Ti-layer repeat by hand: d(001) of a monoclinic cell with β between a and c is c·sin β.
D001_A = C_A * math.sin(BETA)

# Unit-cell sites, with the C-centring (+1/2, +1/2, 0) written out (CIF: Li1 4h, Li2 2d,
# Ti1 2a, Ti2 4g). The Li layer is z = 1/2, the Ti layer z = 0: layer membership by
# construction.
Y_4H, Y_4G = 0.16808730, 0.33248715
LI_LAYER = {
    "h1": (0.0, Y_4H, 0.5),
    "h2": (0.0, -Y_4H, 0.5),
    "h3": (0.5, 0.5 + Y_4H, 0.5),
    "h4": (0.5, 0.5 - Y_4H, 0.5),
    "d1": (0.0, 0.5, 0.5),
    "d2": (0.5, 0.0, 0.5),
}
TI_LAYER_4G = {
    "g1": (0.0, Y_4G, 0.0),
    "g2": (0.0, -Y_4G, 0.0),
    "g3": (0.5, 0.5 + Y_4G, 0.0),
    "g4": (0.5, 0.5 - Y_4G, 0.0),
}
TI_2A = [(0.0, 0.0, 0.0), (0.5, 0.5, 0.0)]
CELLS = [(ia, ib, ic) for ia in (0, 1) for ib in (0, 1) for ic in (0, 1)]


def _frac(
    unit: tuple[float, float, float], ia: int, ic: int, dz: int = 0, ib: int = 0
) -> np.ndarray:
    """Supercell fractional position of a unit-cell site in cell (ia, ib, ic); ``dz`` shifts
    it by whole unit cells along c (an image beyond the supercell)."""
    x, y, z = unit
    return np.array([(x + ia) / 2, (y % 1.0 + ib) / 2, (z + ic + dz) / 2])


def _site(name: str, ia: int, ic: int, dz: int = 0, ib: int = 0) -> np.ndarray:
    return _frac({**LI_LAYER, **TI_LAYER_4G}[name], ia, ic, dz, ib)


#: Initially empty Li-layer sites (the destinations of the hops below).
VACANT = {("d1", 1, 0), ("h4", 0, 1), ("h2", 0, 0), ("d1", 0, 1)}
#: Per ion (by its start site): the hops, (frame, destination site, hop kind by hand).
#: z (unit cells): Li layer at 1/2 (+ ic), Ti layer at 0 (+ ic).
SCRIPT: dict[tuple[str, int, int], list[tuple[int, tuple[str, int, int, int], str]]] = {
    ("h1", 1, 0): [(30, ("d1", 1, 0, 0), "intra_mobile_layer")],
    ("h1", 0, 0): [
        (40, ("g1", 0, 0, 0), "mobile_to_host_layer"),
        (90, ("g4", 0, 0, 0), "intra_host_layer"),
        # Down into the Li layer below the cell: crosses the periodic z boundary.
        (140, ("h4", 0, 0, -1), "host_to_mobile_layer"),
    ],
    ("h2", 0, 1): [
        (50, ("g2", 0, 1, 0), "mobile_to_host_layer"),
        (110, ("h2", 0, 0, 0), "host_to_mobile_layer"),
    ],
    # A direct jump between the two Li layers, over the Ti layer.
    ("d1", 0, 0): [(70, ("d1", 0, 1, 0), "mobile_to_mobile_layer")],
    # Into the site ion ("h2", 0, 1) left at frame 50.
    ("d2", 1, 1): [(160, ("h2", 0, 1, 0), "intra_mobile_layer")],
}
N_FRAMES = 200


def _nearest_image(target_frac: np.ndarray, current_frac: np.ndarray) -> np.ndarray:
    delta = target_frac - current_frac
    return current_frac + delta - np.rint(delta)


def _trajectory(sigma_A: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped Li positions (T, N, 3) and cells; every scripted ion is in transit (midway)
    for one frame at each hop and in the new site from the next."""
    start = [
        (name, ia, ic, ib)
        for ia, ib, ic in CELLS
        for name in LI_LAYER
        if ib or (name, ia, ic) not in VACANT
    ]
    frac = np.repeat(np.array([_site(n, a, c, 0, b) for n, a, c, b in start])[None], N_FRAMES, 0)
    for ion, (name0, ia0, ic0, ib0) in enumerate(start):
        here = frac[0, ion].copy()
        # Every scripted ion starts in the ib = 0 half of the supercell.
        script = [] if ib0 else SCRIPT.get((name0, ia0, ic0), [])
        for frame, (name, ia, ic, dz), _ in script:
            there = _site(name, ia, ic, dz) if dz else _nearest_image(_site(name, ia, ic), here)
            frac[frame, ion] = 0.5 * (here + there)
            frac[frame + 1 :, ion] = there
            here = there
    positions = frac @ SUPERCELL
    positions += np.random.default_rng(seed).normal(0.0, sigma_A, positions.shape)
    return positions, np.repeat(SUPERCELL[None], N_FRAMES, axis=0)


def _host_positions(sigma_A: float = 0.1, seed: int = 2) -> np.ndarray:
    """Ti on every 2a site of the supercell, with thermal noise."""
    ti = np.array([_frac(s, ia, ic, 0, ib) for ia, ib, ic in CELLS for s in TI_2A]) @ SUPERCELL
    return ti + np.random.default_rng(seed).normal(0.0, sigma_A, ti.shape)


def _sites(all_4g: bool) -> np.ndarray:
    """Every Li-layer site, plus either only the 4g sites the script visits (few Ti-layer
    sites, as in a cold run) or all 32 (as in a hot run that visits every vacancy). The
    pre-fix rule took 5.95 Å layers from the first set and 2.97 Å from the second."""
    li = [_site(name, ia, ic, 0, ib) for ia, ib, ic in CELLS for name in LI_LAYER]
    if all_4g:
        ti = [_site(name, ia, ic, 0, ib) for ia, ib, ic in CELLS for name in TI_LAYER_4G]
    else:
        ti = [_site("g1", 0, 0), _site("g4", 0, 0), _site("g2", 0, 1)]
    return np.mod(np.array(li + ti), 1.0)


def _hand_counts() -> dict[str, int]:
    kinds = [kind for hops in SCRIPT.values() for *_, kind in hops]
    return {kind: kinds.count(kind) for kind in HOP_KINDS}


def test_transits_are_outside_every_site_sphere() -> None:
    # Guard of the synthetic data: a hop is only a hop if the midway frame is in transit.
    sites = _sites(all_4g=True) @ SUPERCELL
    positions, _ = _trajectory(sigma_A=0.0)
    frames = [frame for hops in SCRIPT.values() for frame, *_ in hops]
    inv = np.linalg.inv(SUPERCELL)
    for frame in frames:
        delta = (positions[frame][:, None] - sites[None]) @ inv
        distance = np.linalg.norm((delta - np.rint(delta)) @ SUPERCELL, axis=-1)
        assert np.count_nonzero(distance.min(axis=1) > 1.0) >= 1


@pytest.mark.parametrize("all_4g", [False, True], ids=["few-sites", "many-sites"])
@pytest.mark.parametrize("stacking", [None, (0, 0, 2)], ids=["detected", "miller"])
def test_hop_kinds_equal_the_hand_count_for_any_site_set(
    all_4g: bool, stacking: tuple[int, int, int] | None
) -> None:
    positions, cells = _trajectory()
    result = count_hops(
        positions,
        cells,
        stacking=stacking,
        host_positions_A=_host_positions(),
        sites_frac=_sites(all_4g),
        min_hops_per_ion=0.0,
    )
    hand = _hand_counts()
    assert result.kind_counts() == hand
    assert result.n_intra_layer == hand["intra_mobile_layer"] + hand["intra_host_layer"] == 3
    assert result.n_inter_layer == 5
    # The planes come from the Ti alone: Ti layers every c·sin β, at z = 0, whatever the sites.
    assert result.stacking.hkl == (0, 0, 2)
    assert result.stacking.spacing_A == pytest.approx(D001_A)
    assert result.stacking.plane_spacing_A == pytest.approx(D001_A / 2)
    assert np.allclose(result.stacking.normal, [0, 0, 1])
    assert result.stacking.offset_A == pytest.approx(0.0, abs=0.1)
    data = result.to_json_dict()
    assert data["n_mobile_layer_sites"] == 48
    assert data["n_host_layer_sites"] == (32 if all_4g else 3)
    assert {k: data[f"n_{k}_hops"] for k in HOP_KINDS} == hand
    assert data["n_intra_layer_hops"] == 3 and data["n_inter_layer_hops"] == 5


def test_site_set_does_not_move_the_planes() -> None:
    positions, cells = _trajectory()
    few, many = (
        count_hops(
            positions,
            cells,
            host_positions_A=_host_positions(),
            sites_frac=_sites(all_4g),
            min_hops_per_ion=0.0,
        )
        for all_4g in (False, True)
    )
    fields = ("spacing_A", "offset_A", "hkl", "order")
    assert [getattr(few.stacking, f) for f in fields] == [getattr(many.stacking, f) for f in fields]
    assert np.array_equal(few.stacking.normal, many.stacking.normal)
    assert np.array_equal(few.hop_from_layer, many.hop_from_layer)
    assert np.array_equal(few.hop_to_layer, many.hop_to_layer)
    assert np.array_equal(few.layer_index, many.layer_index)


def test_planes_through_the_origin_without_host_positions() -> None:
    # Ti sits on the origin of this cell, so origin planes give the same classes.
    positions, cells = _trajectory()
    result = count_hops(positions, cells, (0, 0, 2), sites_frac=_sites(True), min_hops_per_ion=0)
    assert result.stacking.order is None and result.stacking.offset_A == 0.0
    assert result.kind_counts() == _hand_counts()


def test_host_off_the_given_planes_is_rejected() -> None:
    # The Ti layers are (0 0 2) planes of the supercell; (0 0 1) puts every other one between.
    with pytest.raises(ValueError, match=r"do not lie on the \(0 0 1\) planes"):
        stacking_from_miller(SUPERCELL, (0, 0, 1), _host_positions())


def test_tie_goes_to_the_mobile_plane_in_both_directions() -> None:
    # Host planes z = 0, 8, …; planes every 4 Å: z = 2 is equidistant from host plane 0 and
    # mobile plane 1. Hand: ties → mobile plane; np.rint (half to even) would pick host 0, 2, 2.
    cell = np.diag([10.0, 10.0, 8.0])
    z = np.array([2.0, -2.0, 6.0, 10.0, 1.999, 2.001, 3.9, 4.1])
    points = np.column_stack([np.zeros_like(z), np.zeros_like(z), z])
    up = stacking_from_miller(cell, (0, 0, 1), np.zeros((1, 3)))
    assert up.layer_index(points).tolist() == [1, -1, 1, 3, 0, 1, 1, 1]
    down = stacking_from_miller(cell, (0, 0, -1), np.zeros((1, 3)))
    assert down.layer_index(points).tolist() == [-1, 1, -1, -3, 0, -1, -1, -1]
    assert Stacking.is_host_layer(np.array([0, 1, -1, 2, -2])).tolist() == [
        True,
        False,
        False,
        True,
        True,
    ]


def test_builtin_li3ticl6_planes() -> None:
    from pymatgen.core import Structure

    from litcl_flows.structures.library import builtin_structure_path

    structure = Structure.from_file(builtin_structure_path("li3ticl6"))
    has = [{el.symbol for el in site.species.elements} for site in structure]
    ti = np.array([s.coords for s, e in zip(structure, has, strict=True) if "Ti" in e])
    li = np.array([s.coords for s, e in zip(structure, has, strict=True) if "Li" in e])
    assert (len(ti), len(li)) == (6, 6)  # 2a + 4g, 4h + 2d
    stacking = detect_stacking(structure.lattice.matrix, ti)
    assert stacking.hkl == (0, 0, 1)
    # By hand from the CIF cell: c sin β = 6.337 Å × sin 110.2° = 5.947 Å; Li–Ti plane 2.974 Å.
    assert stacking.spacing_A == pytest.approx(5.9472, abs=1e-4)
    assert stacking.plane_spacing_A == pytest.approx(2.9736, abs=1e-4)
    assert stacking.order == pytest.approx(1.0)
    assert set(stacking.layer_index(ti).tolist()) == {0}
    assert set(np.mod(stacking.layer_index(li), 2).tolist()) == {1}
