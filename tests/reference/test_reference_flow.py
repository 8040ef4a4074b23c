"""The per-U flow (relax → AIMD at each T), its fan-out and walltime chunks, and bad requests."""

from __future__ import annotations

from pathlib import Path

import pytest
from atomate2.vasp.flows.md import MultiMDMaker
from jobflow import Flow, OutputReference, run_locally
from pymatgen.core import Structure

from litcl_flows.engines.vasp.sets import md_set_generator
from litcl_flows.engines.vasp.validation import ReferenceInputError
from litcl_flows.makers.reference import (
    CHGNET,
    VASP,
    AimdTemperaturesMaker,
    ReferenceDataMaker,
    reference_aimd_maker,
)
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

DATA_DIR = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cell() -> Structure:
    return order_by_majority_occupancy(load_structure("li3ticl6"))


def _jobs(flow: Flow) -> list:
    return [j for node in flow.jobs for j in (_jobs(node) if isinstance(node, Flow) else [node])]


def test_study_flow_per_u_relax_then_parallel_aimd(cell: Structure) -> None:
    flow = ReferenceDataMaker(
        aimd_maker=AimdTemperaturesMaker(temperatures_K=(600.0, 900.0), n_steps=5000)
    ).make(cell)
    names = [j.name for j in _jobs(flow)]
    assert len(names) == len(set(names))  # unique: queries and mock VASP select by name
    assert names == [
        "relax 1 U=0", "relax 2 U=0", "aimd 600 K U=0", "aimd 900 K U=0",
        "relax 1 U(Ti)=4", "relax 2 U(Ti)=4", "aimd 600 K U(Ti)=4", "aimd 900 K U(Ti)=4",
    ]  # fmt: skip
    for branch, u_eV in zip(flow.output, (0.0, 4.0), strict=True):
        assert branch["hubbard_u_eV"] == {"Ti": u_eV}
    relax_flow, aimd_flow = flow.jobs[2:]
    for aimd in aimd_flow.jobs:
        structure_arg = aimd.function_args[0]
        # By reference to the second relaxation's output, not a copy.
        assert isinstance(structure_arg, OutputReference)
        assert structure_arg.uuid == relax_flow.jobs[1].uuid
        assert aimd.maker.hubbard_u_eV == {"Ti": 4.0}
        assert aimd.maker.input_set_generator.user_incar_settings["LDAUU"] == {"Ti": 4.0}
        assert aimd.maker.input_set_generator.nsteps == 5000
    # No edges between temperatures: each AIMD depends on the relaxation only.
    assert {a.uuid for a in aimd_flow.jobs} == {
        j.uuid for j in aimd_flow.jobs if j.input_references[0].uuid == relax_flow.jobs[1].uuid
    }


def test_walltime_chunks_restart_from_the_previous_segment(cell: Structure) -> None:
    maker = reference_aimd_maker("vasp", 700.0, n_steps=2000, n_segments=3, walltime_s=7200)
    assert isinstance(maker, MultiMDMaker)
    assert all(m.run_vasp_kwargs["wall_time"] == 7200 for m in maker.md_makers)
    flow = AimdTemperaturesMaker(
        temperatures_K=(700.0,), n_steps=2000, n_segments=3, walltime_s=7200
    ).make(cell)
    segments = [j for j in _jobs(flow) if j.name.startswith("aimd")]
    assert [j.name for j in segments] == [f"aimd {i} 700 K U(Ti)=4" for i in (1, 2, 3)]
    assert segments[1].function_kwargs["prev_dir"].uuid == segments[0].uuid
    assert len(flow.output["trajectories"][0]) == 3  # one stored trajectory per segment


def test_study_flow_runs_under_mock_vasp(mock_vasp, memory_job_store, tmp_path) -> None:
    """FeO GGA+U relaxation → AIMD with the relaxed structure resolved from the store."""
    structure = Structure.from_file(DATA_DIR / "feo_dftu_relax" / "inputs" / "POSCAR")
    mock_vasp(
        {"relax U(Fe)=4": "feo_dftu_relax", "aimd 300 K U(Fe)=4": "h2o_nve_md"},
        {
            # LDAUL is left out: the reference ran O with 0, this set writes -1 (no U term);
            # test_reference_inputs.py checks LDAUL key by key.
            "relax U(Fe)=4": {
                "incar_settings": ["ISIF", "LDAUU"],
                "check_inputs": ["incar", "kpoints", "poscar"],
            },
            # The MD reference is another system: only run-control keys are compared.
            "aimd 300 K U(Fe)=4": {
                "incar_settings": ["IBRION", "NSW", "POTIM"],
                "check_inputs": ["incar"],
            },
        },
    )
    flow = ReferenceDataMaker(
        hubbard_u_sets_eV=({"Fe": 4.0},),
        aimd_maker=AimdTemperaturesMaker(temperatures_K=(300.0,), n_steps=10),
        double_relax=False,
        relax_settings={"kpoint_mesh_override": (1, 1, 1)},
    ).make(structure)
    run_locally(flow, store=memory_job_store, create_folders=True, root_dir=tmp_path,
                ensure_success=True)  # fmt: skip
    relax, aimd = _jobs(flow)
    assert memory_job_store.get_output(relax.uuid)["hubbard_u_applied_eV"] == {"Fe": 4.0}
    aimd_doc = memory_job_store.get_output(aimd.uuid)
    assert aimd_doc["n_frames"] == 10
    assert aimd_doc["hubbard_u_requested_eV"] == {"Fe": 4.0}


@pytest.mark.parametrize(
    ("elements", "hubbard_u_eV", "temperatures_K", "message"),
    [
        (["Li", "Bk", "Cl"], {"Ti": 0.0}, (600.0,), "no POTCAR mapping for element(s) Bk"),
        (["Li", "Ti", "Cl"], {"Ti": -1.0}, (600.0,), "U_eff for Ti is -1.0 eV; need ≥ 0"),
        (["Li", "Ti", "Cl"], {"Ti": 4.0}, (600.0, 0.0), "0.0 K; every temperature must be > 0"),
        (["Li", "Ti", "Cl"], {"Ti": 4.0}, (-300.0,), "-300.0 K; every temperature must be > 0"),
        (["Li", "Ti", "Cl"], {"Fe": 4.0}, (600.0,), "U_eff > 0 for Fe, not in the structure"),
        (["Li", "Ti", "Cl"], {"Xx": 4.0}, (600.0,), "'Xx' is not an element symbol"),
    ],
)
def test_bad_requests_fail_in_one_line(elements, hubbard_u_eV, temperatures_K, message) -> None:
    with pytest.raises(ReferenceInputError, match=r".*") as error:
        VASP.check_request(elements, hubbard_u_eV, temperatures_K)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_makers_refuse_bad_requests(cell: Structure) -> None:
    with pytest.raises(ReferenceInputError, match="need ≥ 0"):
        ReferenceDataMaker(hubbard_u_sets_eV=({"Ti": -2.0},)).make(cell)
    with pytest.raises(ReferenceInputError, match="must be > 0"):
        AimdTemperaturesMaker(temperatures_K=(0.0,)).make(cell)
    with pytest.raises(ReferenceInputError, match="must be > 0"):
        md_set_generator(temperature_K=-5.0, n_steps=10)
    with pytest.raises(ReferenceInputError, match="not vasp or chgnet"):
        reference_aimd_maker("cp2k", 600.0)
    # CHGNet needs no POTCAR, so an element without a mapping is fine there.
    CHGNET.check_request(["Li", "Bk"], {}, (600.0,))
