"""Ordered supercells of Li3TiCl6: expectations derived by hand from the Wyckoff multiplicities."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.transformations.standard_transformations import (
    OrderDisorderedStructureTransformation,
)

from litcl_flows.structures import (
    OrderedSupercell,
    StructureInputError,
    ordered_supercells,
    parse_occupancy_spec,
    perpendicular_widths_A,
    site_orbits,
)
from litcl_flows.structures.library import (
    builtin_structure_path,
    load_structure,
    order_by_majority_occupancy,
)

OXIDATION_STATES = {"Li": 1, "Ti": 3, "Cl": -1}
ANNEALED = {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}
AS_MADE = {"2a": {"Ti": 0.851}, "4g": {"Ti": 0.075}}


@pytest.fixture(scope="module")
def li3ticl6() -> Structure:
    return load_structure("li3ticl6")


@pytest.fixture(scope="module")
def annealed_160(li3ticl6: Structure) -> list[OrderedSupercell]:
    return ordered_supercells(li3ticl6, 160, ANNEALED, n_structures=5, seed=0)


def ti_on_2a_and_4g(result: OrderedSupercell) -> tuple[int, int]:
    """Count Ti on 2a and 4g from positions alone, in conventional-cell coordinates.

    C2/m: 2a = (0,0,0), (1/2,1/2,0); 4g = (0,±y,0), (1/2,1/2±y,0) with y ≈ 0.33, so a Ti is on
    2a exactly when its conventional y is a multiple of 1/2.
    """
    conventional = result.structure.frac_coords @ np.array(result.supercell_matrix)
    ti = [i for i, site in enumerate(result.structure) if site.specie.symbol == "Ti"]
    y = conventional[ti, 1] % 0.5
    on_2a = int(np.sum(np.minimum(y, 0.5 - y) < 1e-3))
    return on_2a, len(ti) - on_2a


def test_orbits_of_the_builtin_cif_match_its_wyckoff_table(li3ticl6: Structure) -> None:
    orbits = {o.wyckoff: o for o in site_orbits(li3ticl6)}
    # The CIF's own table: Ti1 2a 0.851, Ti2 4g 0.075, Li1 4h, Li2 2d, Cl1 8j, Cl2 4i.
    assert sorted(orbits) == sorted(["2a", "4g", "4h", "2d", "8j", "4i"])
    assert orbits["2a"].occupancies == {"Ti": 0.851}
    assert orbits["4g"].site_labels == ("Ti2",)
    assert {w: len(o.indices) for w, o in orbits.items()} == {
        "2a": 2,
        "4g": 4,
        "4h": 4,
        "2d": 2,
        "8j": 8,
        "4i": 4,
    }


# Hand arithmetic, one conventional cell = 20 atoms (Li6 Ti2 Cl12), n cells = atoms / 20:
#   sites: 2a = 2n, 4g = 4n; Ti for neutrality = (Cl - Li) / 3 = (12n - 6n) / 3 = 2n.
#   160 atoms, n = 8: 16 2a, 32 4g, 16 Ti.
#     0.754/0.123: 0.754*16 = 12.06, 0.123*32 = 3.94 → 12 + 4 (sum 16 ✓).
#     0.851/0.075: 0.851*16 = 13.62, 0.075*32 = 2.40 → 14 + 2 (sum 16 ✓).
#   320 atoms, n = 16: 32 2a, 64 4g, 32 Ti.
#     0.851/0.075: 0.851*32 = 27.23, 0.075*64 = 4.80 → 27 + 5 (sum 32 ✓).
@pytest.mark.parametrize(
    ("n_atoms", "occupancies", "on_2a", "on_4g"),
    [(160, ANNEALED, 12, 4), (160, AS_MADE, 14, 2), (320, AS_MADE, 27, 5)],
)
def test_whole_ti_counts_on_2a_and_4g(
    li3ticl6: Structure, n_atoms: int, occupancies: dict, on_2a: int, on_4g: int
) -> None:
    results = ordered_supercells(li3ticl6, n_atoms, occupancies, n_structures=2, n_samples=300)
    n_cells = n_atoms // 20
    for result in results:
        assert ti_on_2a_and_4g(result) == (on_2a, on_4g)
        reported = {(o.orbit, o.species): o for o in result.occupancies}
        assert reported["2a", "Ti"].n_sites == 2 * n_cells
        assert reported["4g", "Ti"].n_sites == 4 * n_cells
        assert reported["2a", "Ti"].achieved_occupancy == on_2a / (2 * n_cells)
        assert reported["4g", "Ti"].achieved_occupancy == on_4g / (4 * n_cells)
        assert reported["2a", "Ti"].target_occupancy == occupancies["2a"]["Ti"]


def test_cells_are_stoichiometric_and_charge_neutral(
    annealed_160: list[OrderedSupercell],
) -> None:
    for result in annealed_160:
        amounts = result.structure.composition.get_el_amt_dict()
        assert amounts == {"Li": 48, "Ti": 16, "Cl": 96}
        assert sum(OXIDATION_STATES[el] * n for el, n in amounts.items()) == 0
        assert result.formula == "Li48 Ti16 Cl96"
        assert len(result.structure) == 160
        assert result.structure.is_ordered


def test_supercell_is_two_by_two_by_two_conventional_cells(
    annealed_160: list[OrderedSupercell],
) -> None:
    # 8 cells; 2×2×2 is the widest diagonal choice (2×1×4 would be 10.9 Å thin along b).
    assert annealed_160[0].supercell_matrix == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
    a, b, c = annealed_160[0].lattice_abc_A
    assert (a, b, c) == pytest.approx((12.70, 21.76, 12.674))
    assert annealed_160[0].lattice_angles_deg[1] == pytest.approx(110.2)


def test_ranking_matches_a_direct_ewald_summation(annealed_160: list[OrderedSupercell]) -> None:
    direct = []
    for result in annealed_160:
        structure = result.structure.copy()
        structure.add_oxidation_state_by_element(OXIDATION_STATES)
        direct.append(EwaldSummation(structure).total_energy / len(structure))
    assert [r.ewald_energy_eV_per_atom for r in annealed_160] == pytest.approx(direct, abs=1e-8)
    assert direct == sorted(direct)
    assert [r.rank for r in annealed_160] == [1, 2, 3, 4, 5]


def test_results_are_symmetry_distinct(annealed_160: list[OrderedSupercell]) -> None:
    matcher = StructureMatcher(primitive_cell=False)
    assert len(annealed_160) == 5
    for first, second in itertools.combinations(annealed_160, 2):
        assert not matcher.fit(first.structure, second.structure)


def test_deterministic_for_a_seed(li3ticl6: Structure) -> None:
    def run(seed: int) -> list[tuple]:
        results = ordered_supercells(li3ticl6, 160, ANNEALED, seed=seed, n_samples=200)
        return [(r.ewald_energy_eV_per_atom, r.structure.frac_coords.tobytes()) for r in results]

    assert run(3) == run(3)


def test_small_cell_is_enumerated_and_agrees_with_pymatgen(li3ticl6: Structure) -> None:
    # 40 atoms (1×1×2): 3 Ti on 4 2a sites, 1 on 8 4g sites, 4 × 8 = 32 arrangements, all
    # enumerated. pymatgen's OrderDisorderedStructureTransformation ranks the same problem
    # (with symmetry images repeated); its distinct energies must be ours.
    ours = ordered_supercells(li3ticl6, 40, ANNEALED, n_structures=10)
    assert ours[0].supercell_matrix == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    supercell = li3ticl6.make_supercell([1, 1, 2], in_place=False)
    species = []
    for site in supercell:
        occupancy = site.species.get_el_amt_dict()
        if "Ti" in occupancy:
            species.append({"Ti3+": 0.75 if occupancy["Ti"] > 0.5 else 0.125})
        else:
            species.append({"Li+": 1} if "Li" in occupancy else {"Cl-": 1})
    disordered = Structure(supercell.lattice, species, supercell.frac_coords)
    ranked = OrderDisorderedStructureTransformation().apply_transformation(
        disordered, return_ranked_list=32
    )
    theirs = sorted({round(float(r["energy"]) / 40, 8) for r in ranked})
    assert [round(r.ewald_energy_eV_per_atom, 8) for r in ours] == theirs[: len(ours)]


def test_cif_occupancies_are_the_default(li3ticl6: Structure) -> None:
    # 0.851/0.075 in one 20-atom cell: 1.70 + 0.30 Ti → 2 + 0 (neutral), i.e. C2/m Li3TiCl6.
    (result,) = ordered_supercells(li3ticl6, 20, n_structures=1)
    assert ti_on_2a_and_4g(result) == (2, 0)
    assert result.space_group == "C2/m"


def test_320_atoms_ranking_and_distinctness(li3ticl6: Structure) -> None:
    results = ordered_supercells(li3ticl6, 320, AS_MADE, n_structures=3)
    assert results[0].supercell_matrix == [[2, 0, 0], [0, 2, 0], [0, 0, 4]]
    energies = [r.ewald_energy_eV_per_atom for r in results]
    assert energies == sorted(energies)
    matcher = StructureMatcher(primitive_cell=False)
    for first, second in itertools.combinations(results, 2):
        assert not matcher.fit(first.structure, second.structure)


def test_as_dict_round_trips_through_json(annealed_160: list[OrderedSupercell]) -> None:
    document = json.loads(json.dumps(annealed_160[0].as_dict()))
    restored = OrderedSupercell.from_dict(document)
    assert restored.structure == annealed_160[0].structure
    assert restored.occupancies == annealed_160[0].occupancies


def test_parse_occupancy_spec() -> None:
    assert parse_occupancy_spec("Ti:2a=0.754, Ti:4g=0.123") == ANNEALED
    with pytest.raises(StructureInputError, match="SPECIES:SITE=VALUE"):
        parse_occupancy_spec("Ti2a=0.7")


@pytest.mark.parametrize(
    ("n_atoms", "occupancies", "message"),
    [
        (160, {"2a": {"Ti": 0.9, "Li": 0.3}}, "sum to 1.200 > 1"),
        (160, {"2a": {"Ti": 1.5}}, "not between 0 and 1"),
        (160, {"2a": {"Ti": 0.5}, "4g": {"Ti": 0.0}}, "charge-neutral"),
        (160, {"2b": {"Ti": 0.5}}, "no site '2b'"),
        (160, {"2a": {"Xx": 0.5}}, "unknown element"),
        (10, None, "smaller than one cell"),
        (170, None, "not reachable"),
    ],
)
def test_bad_input_is_one_line(
    li3ticl6: Structure, n_atoms: int, occupancies: dict | None, message: str
) -> None:
    with pytest.raises(StructureInputError, match=message) as error:
        ordered_supercells(li3ticl6, n_atoms, occupancies)
    assert "\n" not in str(error.value)


def test_structure_without_the_mobile_species(li3ticl6: Structure) -> None:
    sodium = li3ticl6.copy()
    sodium.replace_species({"Li": "Na"})
    with pytest.raises(StructureInputError, match="no Li"):
        ordered_supercells(sodium, 160)


def test_cif_with_site_occupancies_above_one(tmp_path: Path) -> None:
    # Li 0.3 added on the Ti1 (2a) position: 0.851 + 0.3 = 1.151 > 1.
    text = builtin_structure_path("li3ticl6").read_text()
    ti1 = next(line for line in text.splitlines() if line.strip().startswith("Ti1"))
    extra = ti1.replace("Ti1  Ti", "Li3  Li").replace("0.851", "0.300")
    path = tmp_path / "overfull.cif"
    path.write_text(text.replace(ti1, f"{ti1}\n{extra}"))
    with pytest.raises(StructureInputError, match=r"sum to more than 1 \(\[1.151\]\)") as error:
        load_structure(str(path))
    assert "\n" not in str(error.value)


def test_mixed_li_ti_site_keeps_neutrality(li3ticl6: Structure) -> None:
    # Li 0.1 added on 2a: per cell 20.2 atoms, so 8 cells = 162 atoms. Hand count: 2a has 16
    # sites with 12.06 Ti and 1.6 Li targets, 4g 32 sites with 3.94 Ti. Neutrality with the
    # 48 Li + 96 Cl framework: (48 + Li_2a) + 3 Ti = 96. Li_2a = 2 leaves 46/3 Ti (no);
    # Li_2a = 3 → 15 Ti, split 12 + 3 (nearest the targets: 12.06 and 3.94 vs 11 + 4).
    occupancies = {"2a": {"Ti": 0.754, "Li": 0.1}, "4g": {"Ti": 0.123}}
    results = ordered_supercells(li3ticl6, 162, occupancies, n_structures=2, n_samples=300)
    for result in results:
        assert result.structure.composition.get_el_amt_dict() == {"Li": 51, "Ti": 15, "Cl": 96}
        assert ti_on_2a_and_4g(result) == (12, 3)
        reported = {(o.orbit, o.species): o.n_atoms for o in result.occupancies}
        assert reported["2a", "Li"] == 3
        # No two atoms share a site.
        assert min(result.structure.distance_matrix[np.triu_indices(162, 1)]) > 2.0


def test_non_diagonal_supercell_on_request(li3ticl6: Structure) -> None:
    (result,) = ordered_supercells(
        li3ticl6, 160, ANNEALED, n_structures=1, n_samples=100, allow_non_diagonal=True
    )
    matrix = np.array(result.supercell_matrix)
    assert round(np.linalg.det(matrix)) == 8
    assert np.count_nonzero(matrix - np.diag(np.diag(matrix))) > 0
    assert ti_on_2a_and_4g(result) == (12, 4)
    # Wider than the diagonal 2×2×2 (11.9 Å): all three widths exceed 14 Å.
    assert min(perpendicular_widths_A(result.structure.lattice.matrix)) > 14.0


def test_an_ordered_input_gives_its_supercell(li3ticl6: Structure) -> None:
    ordered = order_by_majority_occupancy(li3ticl6)
    (result,) = ordered_supercells(ordered, 40)
    assert result.structure.composition.get_el_amt_dict() == {"Li": 12, "Ti": 4, "Cl": 24}
    assert all(o.achieved_occupancy == 1 for o in result.occupancies)
