"""VASP inputs of the reference engine, key by key against the reference study (no VASP needed)."""

from __future__ import annotations

import warnings

import pytest
from pymatgen.core import Structure

from litcl_flows.engines.vasp.sets import kpoint_mesh, md_set_generator, relax_set_generator
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

#: Replications of the 20-atom C2/m cell giving the study's DFT cell sizes.
SUPERCELLS = {160: (2, 2, 2), 320: (2, 2, 4)}
#: k-meshes of the reference study (docs/study.md).
STUDY_MESHES = {160: (4, 2, 4), 320: (4, 2, 2)}


@pytest.fixture(scope="module")
def unit_cell() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


def _inputs(generator, structure: Structure):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's "LASPH" and POTCAR-less warnings
        return generator.get_input_set(structure, potcar_spec=True)


@pytest.mark.parametrize("n_atoms", [160, 320])
@pytest.mark.parametrize("u_eV", [0.0, 4.0])
def test_relax_inputs_match_the_study(unit_cell: Structure, n_atoms: int, u_eV: float) -> None:
    cell = unit_cell * SUPERCELLS[n_atoms]
    assert len(cell) == n_atoms
    vis = _inputs(relax_set_generator(hubbard_u_eV={"Ti": u_eV}), cell)
    incar = vis.incar
    assert incar["GGA"].upper() == "PE"  # PBE, not atomate2's PBEsol
    assert incar["ENCUT"] == 450
    assert incar["EDIFF"] == 1e-5
    assert incar["EDIFFG"] == -0.01  # 10 meV/Å
    assert (incar["ISIF"], incar["IBRION"]) == (3, 2)
    assert incar["ISPIN"] == 2
    symbols = [s.split()[0] for s in vis.poscar.site_symbols]
    magmom = dict(zip([site.specie.symbol for site in cell], incar["MAGMOM"], strict=True))
    assert magmom == {"Li": 0.0, "Ti": 1.0, "Cl": 0.0}
    if u_eV == 0:
        assert incar["LDAU"] is False
        assert not {"LDAUU", "LDAUL", "LDAUJ", "LDAUTYPE"} & set(incar)
    else:
        assert incar["LDAU"] is True
        assert incar["LDAUTYPE"] == 2
        per_element = {
            key: dict(zip(symbols, incar[key], strict=True)) for key in ("LDAUU", "LDAUL", "LDAUJ")
        }
        assert per_element["LDAUU"] == {"Li": 0, "Ti": 4.0, "Cl": 0}
        # d shell on Ti (LDAUU alone gives 0: s shell); VASP's -1 (no on-site term) elsewhere.
        assert per_element["LDAUL"] == {"Li": -1, "Ti": 2, "Cl": -1}
        assert per_element["LDAUJ"] == {"Li": 0, "Ti": 0, "Cl": 0}
        assert incar["LMAXMIX"] == 4
    kpoints = vis.kpoints
    assert kpoints.style.name == "Gamma"
    assert tuple(kpoints.kpts[0]) == STUDY_MESHES[n_atoms]
    assert vis["POTCAR.spec"].split() == ["Li_sv", "Ti_sv", "Cl"]


def test_kpoint_rule_follows_the_cell(unit_cell: Structure) -> None:
    assert kpoint_mesh(unit_cell, 50.0) == (8, 5, 8)
    assert kpoint_mesh(unit_cell * (2, 2, 2), 25.0) == (2, 1, 2)
    vis = _inputs(relax_set_generator(kpoint_mesh_override=(1, 1, 1)), unit_cell)
    assert tuple(vis.kpoints.kpts[0]) == (1, 1, 1)


@pytest.mark.parametrize("u_eV", [0.0, 4.0])
def test_md_inputs_share_functional_u_and_cutoff(unit_cell: Structure, u_eV: float) -> None:
    cell = unit_cell * SUPERCELLS[160]
    vis = _inputs(md_set_generator(800.0, n_steps=5000, hubbard_u_eV={"Ti": u_eV}), cell)
    incar = vis.incar
    assert incar["GGA"].upper() == "PE"
    assert incar["ENCUT"] == 450  # not MDSetGenerator's 520
    assert incar["EDIFF"] == 1e-5
    assert (incar["IBRION"], incar["MDALGO"], incar["ISIF"]) == (0, 2, 2)  # NVT Nosé–Hoover
    assert incar["POTIM"] == 1.0
    assert incar["TEBEG"] == incar["TEEND"] == 800.0
    assert incar["NSW"] == 5000
    assert incar["ISYM"] == 0
    assert incar.get("LDAU") is (u_eV > 0)
    if u_eV > 0:
        assert list(incar["LDAUL"]) == [-1, 2, -1]  # POSCAR order Li Ti Cl
        assert list(incar["LDAUU"]) == [0, 4.0, 0]
    # The relaxation's mesh by default (as in the study), not Γ only.
    assert vis.kpoints.style.name == "Gamma"
    assert tuple(vis.kpoints.kpts[0]) == STUDY_MESHES[160]
    assert vis["POTCAR.spec"].split() == ["Li_sv", "Ti_sv", "Cl"]


@pytest.mark.parametrize("n_atoms", [160, 320])
def test_md_kpoints_default_to_the_relaxation_mesh(unit_cell: Structure, n_atoms: int) -> None:
    cell = unit_cell * SUPERCELLS[n_atoms]
    md = _inputs(md_set_generator(600.0, n_steps=10), cell)
    relax = _inputs(relax_set_generator(), cell)
    assert tuple(md.kpoints.kpts[0]) == tuple(relax.kpoints.kpts[0]) == STUDY_MESHES[n_atoms]


def test_md_kpoint_options(unit_cell: Structure) -> None:
    cell = unit_cell * SUPERCELLS[160]
    gamma = _inputs(md_set_generator(600.0, n_steps=10, kpoint_length_A=None), cell)
    assert tuple(gamma.kpoints.kpts[0]) == (1, 1, 1)
    explicit = _inputs(md_set_generator(600.0, n_steps=10, kpoint_mesh_override=(2, 1, 2)), cell)
    assert tuple(explicit.kpoints.kpts[0]) == (2, 1, 2)


def test_magmom_of_a_relaxed_structure_wins(unit_cell: Structure) -> None:
    cell = unit_cell.copy()
    cell.add_site_property("magmom", [0.0] * 6 + [0.9, 0.9] + [0.0] * 12)
    vis = _inputs(md_set_generator(600.0, n_steps=10), cell)
    assert sorted(set(vis.incar["MAGMOM"])) == [0.0, 0.9]
