"""Labelling frames for a training set: static inputs, collection of real outputs, CHGNet run.

Labels are checked against independent parses: pymatgen's ``Vasprun`` for VASP outputs,
CHGNet's own ``predict_structure`` for the stand-in.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from jobflow import Flow, Maker, job, run_locally
from pymatgen.core import Structure

from litcl_flows.engines.deepmd.dataset import trajectories_to_deepmd
from litcl_flows.engines.labelling import labels_to_trajectory
from litcl_flows.engines.vasp.sets import md_set_generator
from litcl_flows.makers.deepmd import DeepmdDatasetMaker
from litcl_flows.makers.labelling import COLLECT_JOB_NAME, LabelFramesMaker, collect_labels
from litcl_flows.makers.reference import CHGNET, VASP
from litcl_flows.schemas.labelling import LabelledFramesDocument
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

FEO_RELAX = Path("vasp_dftu_relax") / "FeO_afm_U4_isif3_custodian"
#: Electronic INCAR keys a label must share with the AIMD frames it joins.
ELECTRONIC_KEYS = (
    "GGA", "ENCUT", "EDIFF", "PREC", "ALGO", "LREAL", "LASPH", "ISPIN", "ISMEAR", "SIGMA",
    "ISYM", "NELM", "NELMIN", "LDAU", "LDAUTYPE", "LDAUU", "LDAUL", "LDAUJ", "LMAXMIX", "MAGMOM",
)  # fmt: skip


@pytest.fixture(scope="module")
def unit_cell() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


def _labels(store, uuid: str) -> LabelledFramesDocument:
    """The labelling flow's document as the store returns it (decoded or a dict)."""
    doc = store.get_output(uuid, load=True)
    return doc if isinstance(doc, LabelledFramesDocument) else LabelledFramesDocument(**doc)


def _frames(cell: Structure, n_frames: int) -> list[Structure]:
    """Rattled copies of ``cell``, the last one strained (the lattice varies)."""
    rng = np.random.default_rng(7)
    frames = []
    for i in range(n_frames):
        coords = cell.cart_coords + rng.normal(0, 0.05, (len(cell), 3))
        frame = Structure(cell.lattice, cell.species, coords, coords_are_cartesian=True)
        if i == n_frames - 1:
            frame.apply_strain(0.01)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("u_eV", [0.0, 4.0])
def test_vasp_static_shares_the_aimd_electronic_settings(unit_cell: Structure, u_eV: float):
    cell = unit_cell * (2, 2, 2)
    settings = {"kpoint_length_A": 50.0, "encut_eV": 450.0}
    maker = VASP.static_maker({"Ti": u_eV}, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's POTCAR-less warnings
        static = maker.input_set_generator.get_input_set(cell, potcar_spec=True)
        aimd = md_set_generator(800.0, 100, hubbard_u_eV={"Ti": u_eV}, **settings).get_input_set(
            cell, potcar_spec=True
        )
    incar = static.incar
    assert (incar["NSW"], incar["IBRION"], incar["ISIF"]) == (0, -1, 2)  # stress, fixed cell
    assert not {"MDALGO", "TEBEG", "TEEND", "POTIM", "SMASS"} & set(incar)
    for key in ELECTRONIC_KEYS:
        assert incar.get(key) == aimd.incar.get(key), key
    assert incar["ENCUT"] == 450 and incar["PREC"] == "Normal" and incar["ISYM"] == 0
    assert incar.get("LDAU") is (u_eV > 0)
    assert tuple(static.kpoints.kpts[0]) == tuple(aimd.kpoints.kpts[0]) == (4, 2, 4)
    assert static.kpoints.style.name == "Gamma"
    assert static["POTCAR.spec"] == aimd["POTCAR.spec"]


def test_vasp_task_document_labels_match_vasprun(third_party_dir: Path) -> None:
    from emmet.core.tasks import TaskDoc
    from monty.json import jsanitize
    from pymatgen.io.vasp import Vasprun

    folder = third_party_dir / FEO_RELAX
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no POTCAR
        task_doc = TaskDoc.from_directory(folder)
        last = Vasprun(str(folder / "vasprun.xml"), parse_dos=False, parse_eigen=False).ionic_steps[
            -1
        ]
    # As an object and as jobflow stores it (a plain dict): the collection reads either.
    stored = jsanitize(task_doc, strict=True, enum_values=True)
    assert collect_labels.original([task_doc], VASP.name).energies_eV == [last["e_fr_energy"]]
    doc = collect_labels.original([stored, None], VASP.name)
    assert (doc.n_frames_requested, doc.n_frames_labelled, doc.n_labels_failed) == (2, 1, 1)
    assert doc.failed_indices == [1] and doc.frame_indices == [0]
    assert doc.reference_engine == "vasp" and doc.formula_pretty == "FeO"
    trajectory = doc.objects["trajectory"]
    frame = trajectory.frame_properties[0]
    assert doc.energies_eV == [pytest.approx(-28.21851457, abs=1e-8)]  # README: vasprun F
    assert frame["energy"] == pytest.approx(last["e_fr_energy"], abs=1e-8)
    np.testing.assert_allclose(frame["forces"], last["forces"], atol=1e-8)
    np.testing.assert_allclose(frame["stress"], last["stress"], atol=1e-8)
    np.testing.assert_allclose(
        trajectory.get_structure(0).lattice.matrix, last["structure"].lattice.matrix, atol=1e-8
    )
    # 6 SCF steps < NELM 100: converged.
    assert frame["electronic_converged"] is True and doc.n_frames_scf_unconverged == 0


def test_labels_of_force_field_documents_and_failures(unit_cell: Structure) -> None:
    frames = _frames(unit_cell, 2)
    docs = [
        {"output": {"energy": -1.0 - i, "forces": [[0.1 * i, 0, 0]] * len(s), "stress": None},
         "structure": s.as_dict()}
        for i, s in enumerate(frames)
    ]  # fmt: skip
    labelled = labels_to_trajectory([None, docs[0], docs[1]])
    assert labelled.frame_indices == [1, 2] and labelled.failed_indices == [0]
    assert labelled.energies_eV == [-1.0, -2.0]
    props = labelled.trajectory.frame_properties
    assert "stress" not in props[0] and props[1]["forces"][0] == [0.1, 0.0, 0.0]
    assert labelled.trajectory.get_structure(1).lattice == frames[1].lattice
    assert labels_to_trajectory([None]).trajectory is None
    other = frames[0].copy()
    other.replace(0, "Na")
    with pytest.raises(ValueError, match="species differ"):
        labels_to_trajectory([docs[0], {**docs[1], "structure": other.as_dict()}])


@dataclass
class _FakeStaticMaker(Maker):
    """A single point that fails on structures carrying a ``fail`` site property."""

    name: str = "fake static"

    @job
    def make(self, structure: Structure) -> dict:
        if "fail" in structure.site_properties:
            raise RuntimeError("SCF blew up")
        return {
            "output": {
                "energy": float(structure.volume),
                "forces": [[0.0, 0.0, 0.0]] * len(structure),
                "stress": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            },
            "structure": structure,
        }


def test_a_failed_label_does_not_fail_the_collection(
    unit_cell: Structure, memory_job_store, tmp_path: Path
) -> None:
    frames = _frames(unit_cell, 3)
    frames[1].add_site_property("fail", [True] * len(frames[1]))
    label = LabelFramesMaker(reference_engine="chgnet", static_maker=_FakeStaticMaker()).make(
        frames
    )
    run_locally(label, store=memory_job_store, create_folders=True, root_dir=tmp_path)
    doc = _labels(memory_job_store, label.uuid)
    assert (doc.n_frames_requested, doc.n_frames_labelled, doc.n_labels_failed) == (3, 2, 1)
    assert doc.failed_indices == [1] and doc.frame_indices == [0, 2]
    assert doc.energies_eV == pytest.approx([frames[0].volume, frames[2].volume])
    assert doc.reference_engine == "chgnet"
    assert len(doc.objects["trajectory"]) == 2
    raw = memory_job_store.query_one({"name": COLLECT_JOB_NAME})
    assert raw["output"]["objects"]["trajectory"]["store"] == "data"  # not inline


def test_no_structures_give_an_empty_document(memory_job_store, tmp_path: Path) -> None:
    label = LabelFramesMaker(reference_engine="chgnet", static_maker=_FakeStaticMaker()).make([])
    responses = run_locally(label, store=memory_job_store, create_folders=True, root_dir=tmp_path)
    assert len(responses) == 1  # no single point, no collection job
    doc = _labels(memory_job_store, label.uuid)
    assert (doc.n_frames_requested, doc.n_frames_labelled, doc.n_labels_failed) == (0, 0, 0)
    assert doc.objects == {} and doc.energies_eV == []


def test_chgnet_labels_match_chgnet_and_feed_the_dataset(
    unit_cell: Structure, memory_job_store, tmp_path: Path
) -> None:
    from ase import units
    from chgnet.model import CHGNet

    frames = _frames(unit_cell, 3)
    label = LabelFramesMaker(
        reference_engine="chgnet", static_maker=CHGNET.static_maker({"Ti": 4.0})
    ).make(frames)
    dataset = DeepmdDatasetMaker(
        type_map=["Li", "Ti", "Cl"],
        valid_fraction=0.34,
        frame_stride_fs=0.0,
        gap_fs=0.0,
        stress_unit="kBar",
    ).make([label.output])
    run_locally(
        Flow([label, dataset]),
        store=memory_job_store,
        create_folders=True,
        root_dir=tmp_path,
        ensure_success=True,
    )
    doc = _labels(memory_job_store, label.uuid)
    assert (doc.n_frames_labelled, doc.n_labels_failed) == (3, 0)
    assert doc.reference_engine == "chgnet" and "chgnet" in doc.versions
    trajectory = doc.objects["trajectory"]
    props = trajectory.frame_properties

    model = CHGNet.load(verbose=False)
    for frame, structure, energy in zip(props, frames, doc.energies_eV, strict=True):
        # CHGNet: energy per atom (eV), forces eV/Å, stress GPa with ASE's sign.
        direct = model.predict_structure(structure)
        assert energy == pytest.approx(float(direct["e"]) * len(structure), abs=1e-5)
        assert frame["energy"] == energy
        np.testing.assert_allclose(frame["forces"], direct["f"], atol=1e-5)
        np.testing.assert_allclose(frame["stress"], -10.0 * np.asarray(direct["s"]), atol=1e-4)

    data = memory_job_store.get_output(dataset.uuid, load=True)
    assert data["n_frames_in"] == 3
    assert data["n_frames_train"] + data["n_frames_valid"] == 3 and data["has_virials"]
    report = trajectories_to_deepmd(
        [trajectory], tmp_path / "npy", type_map=["Li", "Ti", "Cl"],
        valid_fraction=0.34, stress_unit="kBar",
    )  # fmt: skip
    system = tmp_path / "npy" / report.train_systems[0]
    virial = np.load(system / "set.000" / "virial.npy").reshape(-1, 3, 3)
    # DeePMD's virial: -stress·V with ASE's sign, eV.
    direct_s = np.asarray(model.predict_structure(frames[0])["s"])
    expected = -direct_s * units.GPa * frames[0].volume
    np.testing.assert_allclose(virial[0], expected, atol=1e-4)


def test_labelled_frames_keep_their_stress_units_beside_a_force_field_run(
    tmp_path, unit_cell, memory_job_store
) -> None:
    """A CHGNet reference run stores stress in eV/Å³ (ASE's sign), labels come in kBar (VASP's
    sign): in one dataset both give DeePMD's virial −σ·V, worked out from CHGNet directly."""
    from ase import units
    from chgnet.model import CHGNet
    from pymatgen.core.trajectory import Trajectory

    model = CHGNet.load(verbose=False)
    frames = _frames(unit_cell, 4)
    direct = [model.predict_structure(frame) for frame in frames]
    reference = Trajectory.from_structures(
        frames[:3],
        frame_properties=[
            {"energy": float(p["e"]) * len(f), "forces": p["f"], "stress": p["s"] * units.GPa}
            for f, p in zip(frames[:3], direct[:3], strict=True)
        ],
        constant_lattice=False,
    )
    label = LabelFramesMaker(reference_engine="chgnet", static_maker=CHGNET.static_maker({})).make(
        frames[3:]
    )
    dataset = DeepmdDatasetMaker(
        type_map=["Li", "Ti", "Cl"], valid_fraction=0.34, frame_stride_fs=0.0, gap_fs=0.0
    ).make([reference], labelled=[label.output])
    run_locally(
        Flow([label, dataset]),
        store=memory_job_store,
        create_folders=True,
        root_dir=tmp_path,
        ensure_success=True,
    )
    data = memory_job_store.get_output(dataset.uuid, load=True)
    assert data["n_frames_labelled"] == 1
    folder = Path(data["dir_name"])
    expected = -np.asarray(direct[3]["s"]) * units.GPa * frames[3].volume
    labelled_system = folder / data["train_systems"][-1]
    virial = np.load(labelled_system / "set.000" / "virial.npy").reshape(-1, 3, 3)
    np.testing.assert_allclose(virial[0], expected, atol=1e-4)
    reference_virial = np.load(folder / data["train_systems"][0] / "set.000" / "virial.npy")
    first = -np.asarray(direct[0]["s"]) * units.GPa * frames[0].volume
    np.testing.assert_allclose(reference_virial.reshape(-1, 3, 3)[0], first, atol=1e-4)
