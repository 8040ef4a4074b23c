"""The reference engine is chosen once, from the spec's name; each engine answers for itself."""

from __future__ import annotations

import typing

import pytest
from atomate2.vasp.flows.core import DoubleRelaxMaker
from atomate2.vasp.flows.md import MultiMDMaker
from monty.json import MontyDecoder

from litcl_flows.engines.vasp.validation import ReferenceInputError
from litcl_flows.flows.spec import StudySpec
from litcl_flows.makers.neb import MLHopNebMaker, VaspHopNebMaker
from litcl_flows.makers.reference import (
    CHGNET,
    REFERENCE_ENGINES,
    VASP,
    AimdTemperaturesMaker,
    ChgnetReferenceMDMaker,
    ChgnetReferenceRelaxMaker,
    ReferenceDataMaker,
    VaspReferenceMDMaker,
    VaspReferenceRelaxMaker,
    get_reference_engine,
)
from litcl_flows.schemas.reference import ForceFieldReferenceTaskDoc, VaspReferenceTaskDoc

U = {"Ti": 4.0}


def test_the_spec_names_exactly_the_registered_engines() -> None:
    names = typing.get_args(StudySpec.model_fields["reference_engine"].annotation)
    assert sorted(names) == sorted(REFERENCE_ENGINES) == ["chgnet", "vasp"]
    assert get_reference_engine("vasp") is VASP and get_reference_engine("chgnet") is CHGNET
    spec = StudySpec(name="s", reference_engine="vasp", material={"structure": "li3ticl6"})
    assert spec.engine is VASP


def test_an_unknown_engine_is_one_line() -> None:
    with pytest.raises(ReferenceInputError) as error:
        get_reference_engine("cp2k")
    assert str(error.value) == "reference_engine: 'cp2k' is not vasp or chgnet"


def test_each_engine_answers_the_study_questions() -> None:
    # VASP is the paper's DFT+U; CHGNet stands in for it and takes no VASP settings.
    assert (VASP.is_stand_in, VASP.writes_vasp_inputs, VASP.display_name) == (False, True, "VASP")
    assert (CHGNET.is_stand_in, CHGNET.writes_vasp_inputs, CHGNET.display_name) == (
        True,
        False,
        "CHGNet",
    )
    # VASP keeps every ionic step; CHGNet every traj_interval steps.
    assert (VASP.steps_per_frame(5), CHGNET.steps_per_frame(5)) == (1, 5)


def test_each_engine_builds_its_own_makers() -> None:
    relax = {"double_relax": True, "walltime_s": None, "fmax_eV_A": 0.01}
    relax |= {"max_steps": 500, "relax_cell": True}
    assert isinstance(VASP.relax_maker(U, **relax), DoubleRelaxMaker)
    assert isinstance(
        VASP.relax_maker(U, **relax | {"double_relax": False}), VaspReferenceRelaxMaker
    )
    assert isinstance(CHGNET.relax_maker(U, **relax), ChgnetReferenceRelaxMaker)
    md = {"temperature_K": 600.0, "n_steps": 10, "time_step_fs": 1.0, "hubbard_u_eV": U}
    md |= {"n_segments": 1, "walltime_s": None, "traj_interval": 1, "velocity_seed": 1}
    assert isinstance(VASP.aimd_maker(**md), VaspReferenceMDMaker)
    assert isinstance(VASP.aimd_maker(**md | {"n_segments": 2}), MultiMDMaker)
    assert isinstance(CHGNET.aimd_maker(**md), ChgnetReferenceMDMaker)
    neb = {"hubbard_u_eV": U, "encut_eV": 450.0, "num_images": 3, "fmax_eV_A": 0.05}
    assert isinstance(VASP.hop_neb_maker(**neb, max_steps=50), VaspHopNebMaker)
    ml_neb = CHGNET.hop_neb_maker(**neb, max_steps=50)
    assert isinstance(ml_neb, MLHopNebMaker)
    assert (ml_neb.num_images, ml_neb.max_steps, ml_neb.engine) == (3, 50, "chgnet")


def test_md_makers_name_the_document_field_of_their_trajectory() -> None:
    # atomate2's VASP TaskDoc keeps it in vasp_objects, its force-field document in objects.
    assert VaspReferenceMDMaker.trajectory_field == "vasp_objects"
    assert ChgnetReferenceMDMaker.trajectory_field == "objects"
    assert "vasp_objects" in VaspReferenceTaskDoc.model_fields
    assert "objects" in ForceFieldReferenceTaskDoc.model_fields


@pytest.mark.parametrize("name", ["vasp", "chgnet"])
def test_makers_keep_the_name_and_serialise(name: str) -> None:
    maker = ReferenceDataMaker(reference_engine=name, aimd_maker=AimdTemperaturesMaker())
    data = maker.as_dict()
    assert data["reference_engine"] == name
    restored = MontyDecoder().process_decoded(data)
    assert restored.engine is get_reference_engine(name)
    assert restored.branch_aimd_maker(U).engine is restored.engine
