"""VASP relax and AIMD Makers run against real VASP outputs with atomate2's mock VASP.

Reference folders (``data/``, see its README): a GGA+U (Fe d, U 4 eV) ISIF 3 relaxation and a
10-step H2O MD, both real VASP runs. The mock checks the INCAR keys the Makers write against
the folder's ``inputs/``, then copies ``outputs/`` in place of running VASP.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Structure

from litcl_flows.makers.reference import reference_aimd_maker, reference_relax_maker
from litcl_flows.schemas.reference import SCF_CONVERGED_KEY

DATA_DIR = Path(__file__).parent / "data"
#: Final energy of the FeO GGA+U relaxation (OUTCAR TOTEN = vasprun e_fr_energy), eV.
FEO_FINAL_ENERGY_eV = -28.21851457


def test_relax_maker_parses_the_dftu_relaxation(mock_vasp, memory_job_store, tmp_path) -> None:
    structure = Structure.from_file(DATA_DIR / "feo_dftu_relax" / "inputs" / "POSCAR")
    maker = reference_relax_maker(
        "vasp", hubbard_u_eV={"Fe": 4.0}, double_relax=False, kpoint_mesh_override=(1, 1, 1)
    )
    # Not LDAUL: the reference ran O with 0 (MP's set then), this set writes -1 (no U term).
    checked = ["ISIF", "IBRION", "NSW", "ISPIN", "LDAU", "LDAUTYPE", "LDAUU", "LDAUJ"]
    mock_vasp(
        {"relax": "feo_dftu_relax"},
        {"relax": {"incar_settings": checked, "check_inputs": ["incar", "kpoints", "poscar"]}},
    )
    job = maker.make(structure)
    run_locally(
        job, store=memory_job_store, create_folders=True, root_dir=tmp_path, ensure_success=True
    )
    doc = memory_job_store.get_output(job.uuid, load=True)
    assert doc["output"]["energy"] == pytest.approx(FEO_FINAL_ENERGY_eV, abs=1e-6)
    final = Structure.from_file(DATA_DIR / "feo_dftu_relax" / "outputs" / "CONTCAR")
    lattice = Structure.from_dict(doc["output"]["structure"]).lattice
    np.testing.assert_allclose(lattice.matrix, final.lattice.matrix, atol=1e-6)
    assert lattice.volume == pytest.approx(44.065, abs=1e-3)
    assert doc["reference_engine"] == "vasp"
    assert doc["hubbard_u_requested_eV"] == {"Fe": 4.0}
    assert doc["hubbard_u_applied_eV"] == {"Fe": 4.0}  # read back from the INCAR that ran
    assert doc["hubbard_u_applied"] is True
    assert doc["n_frames"] == 28


def test_aimd_maker_stores_the_trajectory_in_the_data_store(
    mock_vasp, memory_job_store, tmp_path
) -> None:
    structure = Structure.from_file(DATA_DIR / "h2o_nve_md" / "inputs" / "POSCAR")
    maker = reference_aimd_maker(
        "vasp", temperature_K=300.0, n_steps=10, time_step_fs=1.0, hubbard_u_eV={}
    )
    mock_vasp(
        {"aimd": "h2o_nve_md"},
        {
            "aimd": {
                "incar_settings": ["IBRION", "NSW", "POTIM"],
                "check_inputs": ["incar", "poscar"],
            }
        },
    )
    job = maker.make(structure)
    run_locally(
        job, store=memory_job_store, create_folders=True, root_dir=tmp_path, ensure_success=True
    )
    raw = memory_job_store.query_one({"uuid": job.uuid})
    stored = raw["output"]["vasp_objects"]["trajectory"]
    assert stored["store"] == "data"  # a reference, not the frames
    doc = memory_job_store.get_output(job.uuid, load=True)
    trajectory = doc["vasp_objects"]["trajectory"]
    frames = trajectory["frame_properties"]
    assert len(frames) == doc["n_frames"] == 10
    assert frames[0]["e_fr_energy"] == pytest.approx(-28.38622624)
    assert frames[-1]["e_fr_energy"] == pytest.approx(-28.39848822)
    assert np.asarray(frames[0]["forces"]).shape == (6, 3)
    assert np.asarray(frames[0]["stress"]).shape == (3, 3)
    assert all(frame[SCF_CONVERGED_KEY] is True for frame in frames)  # ≤ 21 SCF steps < NELM 60
    assert doc["n_frames_scf_unconverged"] == 0
    assert doc["temperature_K"] == 300.0
    assert doc["time_step_fs"] == 1.0
    assert doc["hubbard_u_applied"] is True and doc["hubbard_u_applied_eV"] == {}
