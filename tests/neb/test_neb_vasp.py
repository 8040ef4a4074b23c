"""VASP NEB: the real VTST CI-NEB folder parsed into energies and barriers; NEB inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from atomate2.vasp.jobs.neb import NebFromImagesMaker
from pymatgen.core import Composition
from pymatgen.io.vasp import Incar, Kpoints

from litcl_flows.engines.vasp.sets import relax_set_generator
from litcl_flows.makers.neb import VaspHopNebMaker
from litcl_flows.neb.endpoints import hop_endpoints, neb_images
from litcl_flows.neb.hops import NebSetupError, select_hops
from litcl_flows.neb.vasp_inputs import neb_set_generator, potcar_zval
from litcl_flows.neb.vasp_outputs import read_vasp_neb, vasp_neb_result
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

#: Final OUTCAR TOTEN of images 01–03 (README of the shared data).
NH3_TOTEN_eV = [-19.49164066, -19.27591934, -19.49164203]
#: INCAR keys the NEB must share with the relaxation (functional, U, spin).
DFT_U_KEYS = ("GGA", "ENCUT", "LDAU", "LDAUTYPE", "LDAUU", "LDAUL", "LDAUJ", "ISPIN", "MAGMOM")


@pytest.fixture
def nh3_neb(third_party_dir: Path) -> Path:
    return third_party_dir / "vasp_neb" / "NH3_inversion_cineb_vtst_aiida_vasp"


def test_nh3_images_parse(nh3_neb: Path) -> None:
    images = read_vasp_neb(nh3_neb, energy="free")
    assert images.image_indices == [1, 2, 3]
    assert images.num_folders == 5
    assert images.energies_eV == pytest.approx(NH3_TOTEN_eV, abs=1e-8)
    assert images.converged == [True, True, True]
    assert all(s.composition == Composition("NH3") for s in images.structures)
    sigma0 = read_vasp_neb(nh3_neb)  # energy(sigma->0), what emmet's VASP parser reports
    assert sigma0.energies_eV[0] == pytest.approx(-19.49550593, abs=1e-8)


def test_nh3_barrier_from_the_images(nh3_neb: Path) -> None:
    result = vasp_neb_result(nh3_neb, energy="free")
    # Endpoints were never computed: the barrier runs along the band from image 01.
    assert result.forward_barrier == pytest.approx(NH3_TOTEN_eV[1] - NH3_TOTEN_eV[0], abs=1e-6)
    assert result.reverse_barrier == pytest.approx(NH3_TOTEN_eV[1] - NH3_TOTEN_eV[2], abs=1e-6)
    assert result.forward_barrier == pytest.approx(0.2157, abs=1e-4)
    assert result.barrier_analysis.ts_in_frames  # the planar image 02 is the saddle
    assert result.state == "successful"


def test_nh3_barrier_with_endpoint_energies(nh3_neb: Path) -> None:
    ends = (-19.60, -19.58)
    result = vasp_neb_result(nh3_neb, endpoint_energies_eV=ends, energy="free")
    assert result.energies == pytest.approx([ends[0], *NH3_TOTEN_eV, ends[1]])
    assert len(result.images) == 5
    assert result.forward_barrier >= NH3_TOTEN_eV[1] - ends[0] - 1e-9  # spline ≥ highest image


def test_folder_without_images_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(NebSetupError) as error:
        read_vasp_neb(tmp_path)
    assert "\n" not in str(error.value)


#: ZVAL of the study's POTCARs by hand, from their valence configurations: Li_sv 1s2 2s1,
#: Ti_sv 3s2 3p6 3d2 4s2, Cl 3s2 3p5.
ZVAL = {"Li": 3, "Ti": 12, "Cl": 7}
#: INCAR keys an endpoint relaxation may differ in from the images: the band and its optimiser.
BAND_AND_OPTIMISER_KEYS = {"IMAGES", "SPRING", "LCLIMB", "IOPT", "IBRION", "POTIM"}


@pytest.fixture(scope="module")
def li3ticl6_images():
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    (hop,) = select_hops(cell, ["[010]"])
    start, end = hop_endpoints(cell, hop, (1, 1, 1))
    return neb_images(start, end, 3, idpp=False)


def _incar(generator, structure) -> Incar:
    return generator.get_input_set(structure, potcar_spec=True).incar


@pytest.mark.parametrize("vtst", [True, False])
def test_endpoints_and_images_share_electronic_settings(li3ticl6_images, vtst: bool) -> None:
    maker = VaspHopNebMaker(vtst=vtst)
    start = li3ticl6_images[0]
    image = _incar(maker.neb_maker.input_set_generator, start)
    endpoint = _incar(maker.endpoint_relax_maker().input_set_generator, start)
    differ = {k for k in image.keys() | endpoint.keys() if image.get(k) != endpoint.get(k)}
    assert differ <= BAND_AND_OPTIMISER_KEYS, differ
    # atomate2's NEB precision, in both; ISYM 0; fixed cell.
    for incar in (image, endpoint):
        assert (incar["PREC"], incar["EDIFF"], incar["ISYM"], incar["ISIF"]) == (
            "Normal",
            1e-6,
            0,
            2,
        )
    assert endpoint["IBRION"] == 2 and "IMAGES" not in endpoint and "LCLIMB" not in endpoint
    generators = (
        maker.neb_maker.input_set_generator,
        maker.endpoint_relax_maker().input_set_generator,
    )
    meshes = [g.get_input_set(start, potcar_spec=True).kpoints.kpts for g in generators]
    assert meshes[0] == meshes[1]


def test_nelect_makes_a_li_ion_vacancy(li3ticl6_images) -> None:
    start = li3ticl6_images[0]  # Li5 Ti2 Cl12: one Li removed from Li6Ti2Cl12
    assert start.composition.as_dict() == {"Li": 5, "Ti": 2, "Cl": 12}
    neutral = sum(ZVAL[el.symbol] * n for el, n in start.composition.items())
    assert neutral == 5 * 3 + 2 * 12 + 12 * 7 == 123
    maker = VaspHopNebMaker()
    for generator in (
        maker.neb_maker.input_set_generator,
        maker.endpoint_relax_maker().input_set_generator,
    ):
        assert _incar(generator, start)["NELECT"] == neutral + 1  # Ti stays 3+
    # A stoichiometric (interstitial-hop) cell gets VASP's default count.
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    assert _incar(maker.neb_maker.input_set_generator, cell)["NELECT"] == 126
    # The document says which: an ion vacancy for VASP's vacancy hops, neutral otherwise.
    assert "Li ion vacancy" in maker.charge_model("vacancy", "Li")
    assert maker.charge_model("interstitial", "Li").startswith("neutral stoichiometric")


def test_unknown_potcar_fails_in_one_line() -> None:
    with pytest.raises(NebSetupError) as error:
        potcar_zval(["Li_sv", "Xx_pv"], "PBE_54")
    assert "\n" not in str(error.value) and "Xx_pv" in str(error.value)
    assert potcar_zval(["Li_sv", "Ti_sv", "Cl"], "PBE_54") == [3, 12, 7]


def test_neb_incar_keeps_the_relaxation_dft_u(li3ticl6_images) -> None:
    structure = li3ticl6_images[0]
    relax = relax_set_generator().get_input_set(structure, potcar_spec=True)
    for vtst in (True, False):
        generator = neb_set_generator(vtst=vtst)
        generator.num_images = 3
        neb = generator.get_input_set(structure, potcar_spec=True)
        for key in DFT_U_KEYS:
            assert neb.incar[key] == relax.incar[key], key
        assert neb.kpoints.kpts == relax.kpoints.kpts
        assert neb.incar["IMAGES"] == 3 and neb.incar["SPRING"] == -5
        assert neb.incar["ISIF"] == 2 and neb.incar["EDIFFG"] == -0.05
    vtst_incar = neb_set_generator(vtst=True).get_input_set(structure, potcar_spec=True).incar
    assert (vtst_incar["LCLIMB"], vtst_incar["IOPT"], vtst_incar["IBRION"]) == (True, 1, 3)
    assert vtst_incar["POTIM"] == 0
    plain = neb_set_generator(vtst=False).get_input_set(structure, potcar_spec=True).incar
    assert "LCLIMB" not in plain and "IOPT" not in plain and "POTIM" not in plain
    assert plain["IBRION"] == 1


class _StopBeforeVasp(Exception):
    pass


def test_neb_job_writes_image_folders(li3ticl6_images, tmp_path, monkeypatch) -> None:
    """Run atomate2's NEB job body up to VASP (no VASP): INCAR, KPOINTS, 00…04/POSCAR."""

    def no_vasp(**kwargs):
        raise _StopBeforeVasp

    monkeypatch.setattr("atomate2.vasp.jobs.neb.run_vasp", no_vasp)
    monkeypatch.chdir(tmp_path)
    maker = VaspHopNebMaker(
        vtst=False,
        neb_maker=NebFromImagesMaker(
            input_set_generator=neb_set_generator(vtst=False),
            write_input_set_kwargs={"potcar_spec": True},
        ),
    )
    with pytest.raises(_StopBeforeVasp):
        maker.neb_maker.make.original(maker.neb_maker, li3ticl6_images)
    incar = Incar.from_file(tmp_path / "INCAR")
    assert incar["IMAGES"] == 3 and incar["IBRION"] == 1 and "LCLIMB" not in incar
    assert incar["ISYM"] == 0 and incar["NELECT"] == 124  # Li5Ti2Cl12 + 1 e (hand count)
    assert [p.name for p in sorted(tmp_path.glob("[0-9][0-9]"))] == ["00", "01", "02", "03", "04"]
    kpoints = Kpoints.from_file(tmp_path / "KPOINTS")
    assert Kpoints.from_file(tmp_path / "02" / "KPOINTS").kpts == kpoints.kpts
    assert (tmp_path / "POTCAR.spec").read_text().split() == ["Li_sv", "Ti_sv", "Cl"]


def test_vasp_hop_flow_layout() -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    (hop,) = select_hops(cell, ["[010]"])
    flow = VaspHopNebMaker(num_images=3).make(cell, hop, (2, 1, 2))
    names = [j.name for j in flow.jobs]
    assert names == [
        "vasp neb [010] 3.61A endpoints",
        "vasp neb [010] 3.61A relax start",
        "vasp neb [010] 3.61A relax end",
        "vasp neb [010] 3.61A images",
        "vasp neb [010] 3.61A neb",
        "vasp neb barrier",
        "vasp neb [010] 3.61A barrier",
    ]
    relax = flow.jobs[1].maker.input_set_generator
    assert relax.endpoint  # the NEB set for an endpoint: fixed cell
    assert relax.get_input_set(cell, potcar_spec=True).incar["ISIF"] == 2
