"""Hop enumeration, direction labels and layers, checked by hand on cubic and monoclinic cells."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from litcl_flows.neb.hops import (
    NebSetupError,
    enumerate_hops,
    format_direction,
    label_direction,
    parse_direction,
    select_hops,
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


def test_study_directions_and_layers(li3ticl6: Structure) -> None:
    hops = select_hops(li3ticl6)  # [110], [101], [010], [100]
    assert [h.direction_label for h in hops] == ["[110]", "[101]", "[010]", "[100]"]
    by_label = {h.direction_label: h for h in hops}
    # Li layers are (001) planes: only the [101] hop (Δw = 1) leaves its layer, by d(001).
    d001 = li3ticl6.lattice.volume / np.linalg.norm(np.cross(*li3ticl6.lattice.matrix[:2]))
    assert by_label["[101]"].crosses_layers
    assert by_label["[101]"].stacking_offset_A == pytest.approx(d001)
    assert not any(by_label[k].crosses_layers for k in ("[110]", "[010]", "[100]"))
    assert by_label["[100]"].length_A == pytest.approx(li3ticl6.lattice.a)
    assert by_label["[010]"].length_A == pytest.approx(hops[2].length_A)
    # [110] and [1-10] are mirror images in C2/m.
    assert by_label["[110]"].equivalent_directions == ("[1-10]", "[110]")


def test_direction_without_a_hop_fails_in_one_line(li3ticl6: Structure) -> None:
    with pytest.raises(NebSetupError) as error:
        select_hops(li3ticl6, ["[111]"])
    message = str(error.value)
    assert "\n" not in message and "[111]" in message and "[010]" in message


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
    """litcl_flows.neb is the science layer: no jobflow or FireWorks (DESIGN.md layers)."""
    code = (
        "import sys\n"
        "import litcl_flows.neb.hops, litcl_flows.neb.endpoints, litcl_flows.neb.plots\n"
        "import litcl_flows.neb.vasp_inputs, litcl_flows.neb.vasp_outputs\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'jobflow', 'fireworks'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
