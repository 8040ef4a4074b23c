"""AIMD k-points follow the relaxation (issue 15 item 7) and LDAUL is -1 without U (item 11).

References are independent of the code under test: the reference study's 4×2×4 mesh, the length rule
worked out with numpy from the POSCAR lattice, spglib's irreducible-mesh count, and LDAUL
arrays written out by hand in POSCAR species order.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import spglib
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from litcl_flows.engines.vasp.sets import (
    md_set_generator,
    n_kpoints_time_reversal,
    relax_set_generator,
)
from litcl_flows.flows.inputs import write_study_inputs
from litcl_flows.flows.spec import SpecError, StudySpec, load_spec
from litcl_flows.makers.reference import AimdTemperaturesMaker, ReferenceDataMaker
from litcl_flows.neb.vasp_inputs import neb_set_generator
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

ROOT = Path(__file__).resolve().parents[2]
PAPER_SPEC = ROOT / "workflows" / "li3ticl6_paper.yaml"
FEO_POSCAR = Path(__file__).parent / "data" / "feo_dftu_relax" / "inputs" / "POSCAR"
#: The reference study's relaxation mesh of the 160-atom cell (docs/study.md).
STUDY_MESH_160 = (4, 2, 4)
#: Length rule R_k (VASP "Auto"), Å.
R_K_A = 50.0


def _incar_line(folder: Path, key: str) -> str:
    """The raw right-hand side of ``key`` in ``folder/INCAR`` (as VASP reads it)."""
    for line in (folder / "INCAR").read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            return value.strip()
    raise AssertionError(f"{key} not in {folder / 'INCAR'}")


def _hand_length_rule(lattice_rows: np.ndarray) -> tuple[int, ...]:
    """N_i = max(1, int(R_k |b_i| + 0.5)) with b_i the rows of (A^-1)^T, no 2π."""
    recip = np.linalg.norm(np.linalg.inv(lattice_rows).T, axis=1)
    return tuple(max(1, int(R_K_A * b + 0.5)) for b in recip)


def _mesh(folder: Path) -> tuple[int, ...]:
    kpoints = Kpoints.from_file(folder / "KPOINTS")
    assert kpoints.style == Kpoints.supported_modes.Gamma
    return tuple(int(n) for n in kpoints.kpts[0])


def _small(spec: StudySpec, **aimd: object) -> StudySpec:
    """One U set and one temperature, stopping after the AIMD: a cheap dry run."""
    return spec.model_copy(
        update={
            "stop_after": "aimd",
            "hubbard_u_eV": [{"Ti": 4.0}],
            "aimd": spec.aimd.model_copy(update={"temperatures_K": [600.0], **aimd}),
        }
    )


@pytest.fixture(scope="module")
def paper() -> StudySpec:
    return load_spec(PAPER_SPEC)


@pytest.fixture(scope="module")
def paper_dry_run(paper: StudySpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("paper_aimd")
    write_study_inputs(paper.model_copy(update={"stop_after": "aimd"}), out)
    return out


@pytest.mark.parametrize("label", ["U_Ti4", "U0"])
def test_paper_aimd_mesh_is_the_relaxation_mesh(paper_dry_run: Path, label: str) -> None:
    relax = _mesh(paper_dry_run / f"01_relax_{label}")
    lattice = Poscar.from_file(paper_dry_run / f"02_aimd_{label}_600K" / "POSCAR").structure
    # By hand for this cell: a 12.700, b 21.76, c 12.674 Å, β 110.2°: 50/(a sin β) = 4.20,
    # 50/b = 2.30, 50/(c sin β) = 4.20 → 4×2×4.
    assert _hand_length_rule(lattice.lattice.matrix) == STUDY_MESH_160
    for temperature_K in (300, 600, 900):
        assert _mesh(paper_dry_run / f"02_aimd_{label}_{temperature_K}K") == relax
    assert relax == STUDY_MESH_160


def test_paper_readme_states_the_aimd_cost(paper_dry_run: Path) -> None:
    readme = (paper_dry_run / "README.txt").read_text()
    # 4×2×4 = 32 points, 8 of them their own inverse (coordinates 0 or ½): (32 + 8) / 2.
    assert "k-points 4×2×4 Γ-centred (the relaxation's): 20 with ISYM = 0" in readme
    assert "about 20× the cost of a Γ-only step" in readme


@pytest.mark.parametrize(
    ("aimd_mesh", "relax_mesh", "expected"),
    [
        ("gamma", (4, 2, 4), (1, 1, 1)),
        ((2, 1, 2), (4, 2, 4), (2, 1, 2)),
        ("relax", (2, 2, 2), (2, 2, 2)),  # an explicit relaxation mesh is followed
        ("relax", None, STUDY_MESH_160),  # the relaxation's length rule
    ],
)
def test_spec_aimd_kpoint_mesh_options(
    paper: StudySpec, tmp_path: Path, aimd_mesh, relax_mesh, expected
) -> None:
    spec = _small(paper, kpoint_mesh=aimd_mesh)
    spec = spec.model_copy(
        update={"relax": spec.relax.model_copy(update={"kpoint_mesh": relax_mesh})}
    )
    write_study_inputs(spec, tmp_path)
    assert _mesh(tmp_path / "02_aimd_U_Ti4_600K") == expected
    readme = (tmp_path / "README.txt").read_text()
    assert f"k-points {'×'.join(map(str, expected))} Γ-centred" in readme


@pytest.mark.parametrize("aimd_mesh", ["relax", "gamma"])
def test_submitted_flow_uses_the_same_aimd_mesh(paper: StudySpec, aimd_mesh: str) -> None:
    from litcl_flows.flows.study import build_study_flow

    spec = _small(paper, kpoint_mesh=aimd_mesh)
    flow = build_study_flow(spec)
    cell = order_by_majority_occupancy(load_structure("li3ticl6")) * (2, 2, 2)
    generators = [
        job.maker.input_set_generator
        for job in _jobs(flow)
        if job.name.startswith("aimd") and hasattr(job.maker, "input_set_generator")
    ]
    assert len(generators) == spec.aimd.n_segments
    expected = STUDY_MESH_160 if aimd_mesh == "relax" else (1, 1, 1)
    for generator in generators:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kpoints = generator.get_input_set(cell, potcar_spec=True).kpoints
        assert tuple(kpoints.kpts[0]) == expected


def _jobs(flow):
    from jobflow import Flow

    for node in flow.jobs:
        yield from _jobs(node) if isinstance(node, Flow) else [node]


def test_reference_data_maker_gives_the_aimd_the_relaxation_kpoints() -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))

    def aimd_mesh(aimd_settings=None, **kwargs) -> tuple[int, ...]:
        aimd = AimdTemperaturesMaker(temperatures_K=(600.0,), vasp_settings=aimd_settings or {})
        maker = ReferenceDataMaker(hubbard_u_sets_eV=({"Ti": 4.0},), aimd_maker=aimd, **kwargs)
        flow = maker.make(cell)
        (md,) = [j for j in _jobs(flow) if j.name.startswith("aimd")]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kpoints = md.maker.input_set_generator.get_input_set(cell, potcar_spec=True).kpoints
        return tuple(kpoints.kpts[0])

    # The 20-atom cell by the length rule, computed with numpy: 8×5×8.
    assert aimd_mesh() == _hand_length_rule(cell.lattice.matrix) == (8, 5, 8)
    assert aimd_mesh(relax_settings={"kpoint_mesh_override": (3, 2, 3)}) == (3, 2, 3)
    gamma = {"kpoint_length_A": None}
    assert aimd_mesh(relax_settings={"kpoint_mesh_override": (3, 2, 3)}, aimd_settings=gamma) == (
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gama", "aimd.kpoint_mesh: 'gama' is not 'relax', 'gamma' or a mesh [n1, n2, n3]"),
        ("[4, 2]", "aimd.kpoint_mesh"),
        ("[4, 0, 4]", "aimd.kpoint_mesh"),
    ],
)
def test_spec_rejects_a_bad_aimd_mesh(tmp_path: Path, value: str, message: str) -> None:
    text = PAPER_SPEC.read_text().replace("kpoint_mesh: relax ", f"kpoint_mesh: {value} ")
    assert f"kpoint_mesh: {value} " in text
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("mesh", [(4, 2, 4), (4, 2, 2), (3, 3, 3), (1, 1, 1), (5, 2, 3)])
def test_kpoint_count_matches_spglib_time_reversal(mesh: tuple[int, int, int]) -> None:
    # A P1 cell: spglib reduces the Γ-centred mesh by time reversal alone, as VASP's ISYM = 0.
    rng = np.random.default_rng(0)
    lattice = np.array([[5.1, 0.3, 0.2], [0.4, 6.3, 0.5], [0.1, 0.7, 7.2]])
    cell = (lattice, rng.random((3, 3)), [1, 2, 3])
    assert spglib.get_spacegroup(cell) == "P1 (1)"
    mapping, _ = spglib.get_ir_reciprocal_mesh(mesh, cell, is_shift=[0, 0, 0])
    assert n_kpoints_time_reversal(mesh) == len(np.unique(mapping))


def test_kpoint_count_rejects_a_bad_mesh() -> None:
    with pytest.raises(ValueError, match=r"k-mesh \(4, 0, 4\): need three subdivisions ≥ 1"):
        n_kpoints_time_reversal((4, 0, 4))


def _written(generator, structure: Structure, folder: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generator.get_input_set(structure, potcar_spec=True).write_input(folder)
    return folder


@pytest.mark.parametrize("which", ["relax", "md", "neb"])
def test_ldaul_is_minus_one_for_species_without_u(tmp_path: Path, which: str) -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    generator = {
        "relax": relax_set_generator(hubbard_u_eV={"Ti": 4.0}),
        "md": md_set_generator(600.0, n_steps=10, hubbard_u_eV={"Ti": 4.0}),
        "neb": neb_set_generator(hubbard_u_eV={"Ti": 4.0}),
    }[which]
    folder = _written(generator, cell, tmp_path)
    assert Poscar.from_file(folder / "POSCAR").site_symbols == ["Li", "Ti", "Cl"]
    # By hand, POSCAR order Li Ti Cl: d shell (2) on Ti only, -1 = no on-site term.
    assert _incar_line(folder, "LDAUL") == "-1 2 -1"
    assert _incar_line(folder, "LDAUU") == "0 4.0 0"
    assert Incar.from_file(folder / "INCAR")["LDAUJ"] == [0, 0, 0]


def test_ldaul_follows_the_poscar_order_of_another_system(tmp_path: Path) -> None:
    feo = Structure.from_file(FEO_POSCAR)
    folder = _written(relax_set_generator(hubbard_u_eV={"Fe": 4.0}), feo, tmp_path)
    assert Poscar.from_file(folder / "POSCAR").site_symbols == ["Fe", "O"]
    assert _incar_line(folder, "LDAUL") == "2 -1"
    assert _incar_line(folder, "LDAUU") == "4.0 0"


def test_no_u_writes_no_ldau_arrays(tmp_path: Path) -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    incar = Incar.from_file(
        _written(relax_set_generator(hubbard_u_eV={"Ti": 0.0}), cell, tmp_path) / "INCAR"
    )
    assert incar["LDAU"] is False
    assert not {"LDAUL", "LDAUU", "LDAUJ"} & set(incar)


def test_settings_survive_serialisation(tmp_path: Path) -> None:
    # A submitted flow stores its Makers as JSON: the LDAUL map and the mesh must come back.
    from monty.json import MontyDecoder, jsanitize

    generator = md_set_generator(
        600.0, n_steps=10, hubbard_u_eV={"Ti": 4.0}, kpoint_mesh_override=(2, 1, 2)
    )
    restored = MontyDecoder().process_decoded(jsanitize(generator, strict=True))
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    folder = _written(restored, cell, tmp_path)
    assert _incar_line(folder, "LDAUL") == "-1 2 -1"
    assert _mesh(folder) == (2, 1, 2)
