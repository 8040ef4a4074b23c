"""Supercell sizing, endpoints and images, against brute-force geometry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from litcl_flows.makers.neb import hop_images_job
from litcl_flows.neb.endpoints import (
    cell_charge_e,
    hop_endpoints,
    ion_charge_e,
    neb_images,
    vacancy_supercell,
)
from litcl_flows.neb.hops import NebSetupError, select_hops, vacant_parent_sites
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy


@pytest.fixture(scope="module")
def li3ticl6() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


def _brute_min_image(lattice: np.ndarray) -> float:
    """Shortest non-zero lattice vector, all combinations with coefficients up to ±3."""
    return min(
        float(np.linalg.norm(np.asarray(c) @ lattice))
        for c in itertools.product(range(-3, 4), repeat=3)
        if any(c)
    )


def test_supercell_is_the_smallest_that_reaches_the_distance(li3ticl6: Structure) -> None:
    mult = vacancy_supercell(li3ticl6, 9.0, max_atoms=400)
    assert mult == (2, 1, 2)
    reached = _brute_min_image(li3ticl6.lattice.matrix * np.asarray(mult)[:, None])
    assert reached >= 9.0
    for other in itertools.product(range(1, 4), repeat=3):  # nothing smaller reaches 9 Å
        if np.prod(other) < np.prod(mult):
            scaled = li3ticl6.lattice.matrix * np.asarray(other)[:, None]
            assert _brute_min_image(scaled) < 9.0
    cubic = Structure(Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    assert vacancy_supercell(cubic, 7.0) == (2, 2, 2)


def test_supercell_over_the_cap_fails_in_one_line(li3ticl6: Structure) -> None:
    with pytest.raises(NebSetupError) as error:
        vacancy_supercell(li3ticl6, 9.0, max_atoms=60)
    message = str(error.value)
    assert "\n" not in message and "60 atoms" in message and "80 atoms" in message


def test_endpoints_and_images(li3ticl6: Structure) -> None:
    # 6.35 Å (a second-neighbour jump): half the 2a supercell repeat, the unwrapping case.
    (hop,) = select_hops(li3ticl6, ["[100]"], max_hop_length_A=7.0)
    start, end = hop_endpoints(li3ticl6, hop, (2, 1, 2))
    assert len(start) == len(end) == 79
    assert start.composition == end.composition
    assert start.composition["Li"] == 4 * 6 - 1
    # A Li⁺ vacancy, not a neutral one: the cell keeps the Li atom's electron.
    assert cell_charge_e(start) == cell_charge_e(end) == -1
    moving = [i for i in range(len(start)) if not np.allclose(start[i].coords, end[i].coords)]
    assert moving == [0]  # the first Li slot; every other atom is the same in both
    assert np.linalg.norm(end[0].coords - start[0].coords) == pytest.approx(hop.length_A)
    # No Li stays at either end of the hop other than the migrating one.
    for structure, free in ((start, end[0]), (end, start[0])):
        distances = structure.lattice.get_all_distances(free.frac_coords, structure.frac_coords)
        assert distances.min() > 1.0

    images = neb_images(start, end, 3, idpp=False)
    assert len(images) == 5
    assert [cell_charge_e(image) for image in images] == [-1] * 5
    assert [cell_charge_e(image) for image in neb_images(start, end, 1)] == [-1] * 3  # IDPP
    # Linear, unwrapped: the ion moves 1/4 of the hop per image, never across the cell.
    steps = [np.linalg.norm(images[i + 1][0].coords - images[i][0].coords) for i in range(4)]
    assert steps == pytest.approx([hop.length_A / 4] * 4)


def test_interstitial_endpoints_are_neutral_and_keep_every_li(li3ticl6: Structure) -> None:
    parent = load_structure("li3ticl6")
    (hop,) = select_hops(
        li3ticl6, ["[101]"], interstitial_frac_coords=vacant_parent_sites(li3ticl6, parent)
    )
    start, end = hop_endpoints(li3ticl6, hop, (1, 1, 1))
    assert start.composition == li3ticl6.composition == end.composition
    assert cell_charge_e(start) == cell_charge_e(end) == 0


def test_vacancy_charge_follows_the_ion_oxidation_state() -> None:
    copper = Structure(Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    assert ion_charge_e(copper, "Cu") == 0  # a metal's vacancy stays neutral
    salt = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert ion_charge_e(salt, "Li") == 1
    salt.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    assert ion_charge_e(salt, "Li") == 1


def test_idpp_keeps_endpoints_and_symmetric_midpoint() -> None:
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    (hop,) = select_hops(cu, ["[110]"], species="Cu", max_hop_length_A=3.0)
    start, end = hop_endpoints(cu, hop, (2, 2, 2))
    images = neb_images(start, end, 3, idpp=True)
    assert images[0] == start and images[-1] == end
    # The hop is symmetric under the mirror swapping its ends: the middle image sits halfway.
    along = (end[0].coords - start[0].coords) / hop.length_A
    travelled = np.dot(images[2][0].coords - start[0].coords, along)
    assert travelled == pytest.approx(hop.length_A / 2, abs=0.01)


def test_images_job_unwraps_relaxed_endpoints(li3ticl6: Structure) -> None:
    (hop,) = select_hops(li3ticl6, ["[100]"], max_hop_length_A=7.0)
    start, end = hop_endpoints(li3ticl6, hop, (2, 1, 2))
    # As a relaxation returns them: wrapped into the cell, without the cell's charge.
    relaxed_start = Structure(start.lattice, start.species, start.frac_coords)
    wrapped = Structure(end.lattice, end.species, end.frac_coords)
    wrapped.translate_sites(range(len(wrapped)), [0, 0, 0], to_unit_cell=True)
    reference = {"start": start, "end": end}
    images = hop_images_job.original(relaxed_start, wrapped, 3, False, reference)
    expected = neb_images(start, end, 3, idpp=False)
    for got, want in zip(images, expected, strict=True):
        assert np.allclose(got.cart_coords, want.cart_coords, atol=1e-6)
        assert cell_charge_e(got) == -1
