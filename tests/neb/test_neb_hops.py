"""Hop enumeration, direction labels and layers, checked by hand on cubic and monoclinic cells."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from litcl_flows.neb.hops import (
    LI3TICL6_HOP_DIRECTIONS,
    Hop,
    HopLabeller,
    NebSetupError,
    enumerate_hops,
    format_direction,
    label_direction,
    parse_direction,
    select_hops,
    vacant_parent_sites,
)
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy


@pytest.fixture(scope="module")
def li3ticl6() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


def test_labels_on_a_cubic_cell() -> None:
    cubic = Lattice.cubic(3.61)
    assert label_direction([0.5, 0.5, 0.0], cubic) == ((1, 1, 0), pytest.approx(0.0, abs=1e-4))
    assert label_direction([-0.5, 0.5, 0.0], cubic)[0] == (1, -1, 0)  # sign-free: [-110] = [1-10]
    assert label_direction([0.0, 0.0, -1.0], cubic)[0] == (0, 0, 1)
    assert label_direction([0.5, 0.5, 0.5], cubic)[0] == (1, 1, 1)
    # 5.7° off [100]: [100] within the default 10°.
    assert label_direction([1.0, 0.1, 0.0], cubic)[0] == (1, 0, 0)
    uvw, angle = label_direction([1.0, 0.1, 0.0], cubic, tolerance_deg=1.0)
    # Nothing with indices ≤ 4 lies within 1°: the closest is returned with its angle.
    assert uvw == (1, 0, 0) and angle == pytest.approx(np.degrees(np.arctan(0.1)))
    assert label_direction([1.0, 0.25, 0.0], cubic, tolerance_deg=1.0)[0] == (4, 1, 0)


def test_labels_on_the_monoclinic_cell(li3ticl6: Structure) -> None:
    lattice = li3ticl6.lattice  # a 6.35, b 10.88 (long axis), c 6.337 Å, β 110.2°
    assert label_direction([0.0, 0.332, 0.0], lattice)[0] == (0, 1, 0)  # a hop along b
    assert label_direction([1.0, 0.0, 0.0], lattice)[0] == (1, 0, 0)
    assert label_direction([-1.0, 0.0, -1.0], lattice)[0] == (1, 0, 1)
    # (½, ½, 0) is the C-centring vector: [110], not the Cartesian diagonal.
    assert label_direction([0.5, 0.5, 0.0], lattice)[0] == (1, 1, 0)


@pytest.mark.parametrize(
    ("text", "uvw"),
    [("[110]", (1, 1, 0)), ("[1-10]", (1, -1, 0)), ("[-1-10]", (1, 1, 0)), ("0 -2 0", (0, 1, 0))],
)
def test_parse_direction(text: str, uvw: tuple[int, int, int]) -> None:
    assert parse_direction(text) == uvw
    assert parse_direction(format_direction(uvw)) == uvw


@pytest.mark.parametrize("bad", ["[11]", "[1x0]", "[000]"])
def test_unreadable_direction_is_one_line(bad: str) -> None:
    with pytest.raises(NebSetupError) as error:
        parse_direction(bad)
    assert "\n" not in str(error.value)


def _li_li_distances(structure: Structure, cutoff: float) -> np.ndarray:
    """Every Li–Li distance up to ``cutoff`` by brute force over neighbouring cells."""
    li = [s.coords for s in structure if s.specie.symbol == "Li"]
    shifts = [
        structure.lattice.get_cartesian_coords(n) for n in itertools.product(range(-2, 3), repeat=3)
    ]
    dists = {
        round(float(np.linalg.norm(b + t - a)), 6) for a, b, t in itertools.product(li, li, shifts)
    }
    return np.array(sorted(d for d in dists if 1e-6 < d <= cutoff))


def test_enumeration_is_deterministic_and_lengths_are_li_li_distances(li3ticl6: Structure) -> None:
    hops = enumerate_hops(li3ticl6, "Li", max_hop_length_A=8.0)
    again = enumerate_hops(li3ticl6.copy(), "Li", max_hop_length_A=8.0)
    assert [h.as_dict() for h in hops] == [h.as_dict() for h in again]
    assert [h.length_A for h in hops] == sorted(h.length_A for h in hops)
    distances = _li_li_distances(li3ticl6, 8.0)
    li_frac = np.array([s.frac_coords for s in li3ticl6 if s.specie.symbol == "Li"])
    for hop in hops:
        assert np.min(np.abs(distances - hop.length_A)) < 1e-5
        vector = np.subtract(hop.end_frac, hop.start_frac)
        assert np.linalg.norm(li3ticl6.lattice.get_cartesian_coords(vector)) == pytest.approx(
            hop.length_A
        )
        for end in (hop.start_frac, hop.end_frac):  # both ends are Li sites (mod a lattice vector)
            delta = li_frac - np.asarray(end)
            assert np.min(np.abs(delta - np.round(delta)).max(axis=1)) < 1e-4
    # The shortest Li–Li distance is a hop, along b.
    assert hops[0].length_A == pytest.approx(distances[0])
    assert hops[0].direction_label == "[010]"


# The CIF (data/structures/Li3TiCl6_C2m.cif): cell and the free coordinates used below.
A_A, B_A, C_A, BETA_deg = 6.350, 10.88, 6.337, 110.2
LI1_Y = 0.16808730  # Li1 4h (0, y, 1/2)
TI2_Y = 0.33248715  # Ti2 4g (0, y, 0), empty in the majority-ordered cell


def _monoclinic_length(dx: float, dy: float, dz: float) -> float:
    """|Δ| from fractional differences with the monoclinic metric, by hand."""
    cos_beta = math.cos(math.radians(BETA_deg))
    return math.sqrt(
        (dx * A_A) ** 2 + (dy * B_A) ** 2 + (dz * C_A) ** 2 + 2 * dx * dz * A_A * C_A * cos_beta
    )


@pytest.fixture(scope="module")
def parent() -> Structure:
    return load_structure("li3ticl6")


@pytest.fixture(scope="module")
def elementary(li3ticl6: Structure, parent: Structure) -> dict[str, Hop]:
    labeller = HopLabeller(li3ticl6, parent=parent)
    hops = select_hops(
        li3ticl6,
        LI3TICL6_HOP_DIRECTIONS,
        labeller=labeller,
        interstitial_frac_coords=vacant_parent_sites(li3ticl6, parent),
    )
    return {h.direction_label: h for h in hops}


def test_vacant_parent_sites_are_the_empty_4g_sites(li3ticl6: Structure, parent) -> None:
    sites = vacant_parent_sites(li3ticl6, parent)
    # 4g = (0, ±y, 0) and the C-centred (1/2, 1/2 ± y, 0); Ti sits on every 2a.
    by_hand = [[0, TI2_Y, 0], [0, -TI2_Y, 0], [0.5, 0.5 + TI2_Y, 0], [0.5, 0.5 - TI2_Y, 0]]
    assert {s.name for s in sites} == {"4g (Ti2)"}
    found = np.array([s.frac_coords for s in sites])
    for position in by_hand:
        delta = found - position
        assert np.min(np.abs(delta - np.round(delta)).max(axis=1)) < 1e-6
    assert len(sites) == 4


def test_vacant_sites_of_an_ordered_supercell_match_its_occupancy_report(parent) -> None:
    from litcl_flows.structures import ordered_supercells

    best = ordered_supercells(parent, 40, {"2a": {"Ti": 0.75}, "4g": {"Ti": 0.125}}, 1)[0]
    sites = vacant_parent_sites(best.structure, parent)
    empty = {
        row.orbit.split()[0]: row.n_sites - row.n_atoms
        for row in best.occupancies
        if row.species == "Ti"
    }
    assert empty == {"2a": 1, "4g": 7}
    counts = {w: sum(s.name.startswith(w) for s in sites) for w in empty}
    assert counts == empty
    for site in sites:  # empty: no atom within 1 Å
        distances = best.structure.lattice.get_all_distances(
            [site.frac_coords], best.structure.frac_coords
        )
        assert distances.min() > 1.0


def test_elementary_hops_by_hand_geometry(elementary: dict[str, Hop]) -> None:
    d001 = C_A * math.sin(math.radians(BETA_deg))  # Li and Ti layers alternate every d001/2
    # [010]: Li1 (0, y, 1/2) → Li2 (0, 1/2, 1/2), in the Li layer.
    in_b = elementary["[010]"]
    assert in_b.length_A == pytest.approx((0.5 - LI1_Y) * B_A, abs=1e-6)
    assert (in_b.mechanism, in_b.end_site, in_b.crosses_layers) == ("vacancy", "Li", False)
    # [310]: Li1 (0, y, 1/2) → Li1 (1/2, 1/2 - y, 1/2), in the Li layer.
    in_a = elementary["[310]"]
    assert in_a.length_A == pytest.approx(_monoclinic_length(0.5, 0.5 - 2 * LI1_Y, 0), abs=1e-6)
    assert not in_a.crosses_layers
    # [101]: Li1 (0, y, 1/2) → empty 4g (1/2, 1/2 - y', 1) in the Ti layer above.
    up = elementary["[101]"]
    assert up.length_A == pytest.approx(_monoclinic_length(0.5, 0.5 - TI2_Y - LI1_Y, 0.5))
    assert (up.mechanism, up.end_site, up.crosses_layers) == ("interstitial", "4g (Ti2)", True)
    assert up.stacking_offset_A == pytest.approx(d001 / 2, abs=1e-6)
    # [013]: Li1 (0, y, 1/2) → empty 4g (0, y', 0) (or the Li2 → 4g hop of the same class).
    side = elementary["[013]"]
    assert side.length_A == pytest.approx(_monoclinic_length(0, TI2_Y - LI1_Y, 0.5), abs=1e-6)
    assert side.crosses_layers and side.mechanism == "interstitial"
    for hop in elementary.values():  # the CIF's 24 sites: 2a + 4g + 4h + 2d + 8j + 4i
        assert hop.length_A < 4.0
        assert hop.cell_setting.startswith("a, b, c of the parent cell (C2/m, 24 sites)")


def test_study_labels_by_geometry(elementary: dict[str, Hop], li3ticl6, parent) -> None:
    # The in-layer b hop is the study's [010]; the inter-layer hop to the empty Ti site along
    # [101] is the study's [101] ("inter-layer ... along interstitial sites").
    assert elementary["[010]"].study_label == "[010]"
    assert elementary["[101]"].study_label == "[101]"
    assert elementary["[310]"].study_label is None
    assert elementary["[013]"].study_label is None
    # The study's [110] and [100] exist only as 6.3 Å in-layer second-neighbour jumps, which
    # pass an occupied Li on the way: not elementary. [110] lies in the (001) layer, so it is
    # not the study's inter-layer [110] either.
    labeller = HopLabeller(li3ticl6, parent=parent)
    jumps = {h.direction_label: h for h in select_hops(li3ticl6, ["[110]", "[100]"], "Li", 7.0)}
    jumps = {k: labeller.hop("Li", "vacancy", h.start_frac, h.end_frac) for k, h in jumps.items()}
    assert jumps["[110]"].length_A == pytest.approx(_monoclinic_length(0.5, 0.5, 0), abs=1e-6)
    assert jumps["[100]"].length_A == pytest.approx(A_A, abs=1e-6)
    assert not jumps["[110]"].crosses_layers and jumps["[110]"].study_label is None
    assert jumps["[100]"].study_label == "[100]"
    for jump in jumps.values():
        assert jump.path_clearance_A["Li"] < 2.0  # an occupied Li beside the path
    for hop in elementary.values():
        assert hop.path_clearance_A["Li"] > 3.0
    with pytest.raises(NebSetupError):
        select_hops(li3ticl6, ["[110]"], labeller=labeller)


def _brute_clearance(structure: Structure, hop: Hop, skip_end: bool) -> dict[str, float]:
    """Dense sampling of the straight path against every atom of the 5×5×5 neighbouring cells."""
    lattice = structure.lattice
    start, end = (lattice.get_cartesian_coords(f) for f in (hop.start_frac, hop.end_frac))
    path = start + np.linspace(0, 1, 20001)[:, None] * (end - start)
    out: dict[str, float] = {}
    for site in structure:
        for shift in itertools.product(range(-2, 3), repeat=3):
            point = lattice.get_cartesian_coords(site.frac_coords + shift)
            if np.linalg.norm(point - start) < 1e-3 or (
                skip_end and np.linalg.norm(point - end) < 1e-3
            ):
                continue
            distance = float(np.min(np.linalg.norm(path - point, axis=1)))
            out[site.specie.symbol] = min(distance, out.get(site.specie.symbol, math.inf))
    return out


def test_path_clearance_against_dense_sampling(li3ticl6: Structure, elementary) -> None:
    jump = select_hops(li3ticl6, ["[110]"], "Li", 7.0)[0]
    for hop in (jump, elementary["[010]"], elementary["[101]"]):
        brute = _brute_clearance(li3ticl6, hop, skip_end=hop.mechanism == "vacancy")
        assert hop.path_clearance_A == pytest.approx(brute, abs=1e-3)


def test_labels_refer_to_the_parent_cell_in_a_supercell(li3ticl6: Structure, parent) -> None:
    wide = li3ticl6 * (2, 1, 1)
    vacant = vacant_parent_sites(wide, parent)
    (own,) = select_hops(
        wide, ["[102]"], interstitial_frac_coords=vacant, max_hop_length_A=4.0
    )  # the supercell's own basis: (1/4, 0, 1/2) is [102]
    labeller = HopLabeller(wide, parent=parent)
    (hop,) = select_hops(wide, ["[101]"], labeller=labeller, interstitial_frac_coords=vacant)
    assert hop.length_A == pytest.approx(own.length_A)
    assert hop.length_A == pytest.approx(_monoclinic_length(0.5, 0.5 - TI2_Y - LI1_Y, 0.5))
    assert hop.study_label == "[101]"
    with pytest.raises(NebSetupError) as error:  # not a supercell of the parent
        HopLabeller(Structure(Lattice.cubic(5.0), ["Li"], [[0, 0, 0]]), parent=parent)
    assert "\n" not in str(error.value)


def test_direction_without_a_hop_fails_in_one_line(li3ticl6: Structure) -> None:
    with pytest.raises(NebSetupError) as error:
        select_hops(li3ticl6, ["[111]"])
    message = str(error.value)
    assert "\n" not in message and "[111]" in message and "[010]" in message
    assert "4 Å" in message


def test_interstitial_hops(li3ticl6: Structure) -> None:
    hops = enumerate_hops(
        li3ticl6, "Li", max_hop_length_A=4.0, interstitial_frac_coords=[[0.25, 0.25, 0.5]]
    )
    inter = [h for h in hops if h.mechanism == "interstitial"]
    assert inter and all(h.length_A <= 4.0 for h in inter)
    for hop in inter:  # every end is a copy of the position given
        delta = np.asarray(hop.end_frac) - [0.25, 0.25, 0.5]
        assert np.allclose(delta, np.round(delta), atol=1e-6)


def test_science_modules_import_no_workflow_code() -> None:
    """litcl_flows.neb is the science layer: no jobflow or FireWorks (docs/architecture.md)."""
    code = (
        "import sys\n"
        "import litcl_flows.neb.hops, litcl_flows.neb.endpoints, litcl_flows.neb.plots\n"
        "import litcl_flows.neb.vasp_inputs, litcl_flows.neb.vasp_outputs\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'jobflow', 'fireworks'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
