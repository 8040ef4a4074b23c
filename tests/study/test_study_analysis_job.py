"""The study's per-run analysis job on a synthetic LAMMPS run (no engine): its document
carries the host-frame numbers, the interval degrees of freedom and the MSD exponents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from litcl_flows.io import write_lammps_dump
from litcl_flows.makers.study import analyze_run
from litcl_flows.schemas.lammps import LammpsMDDocument

MASS = {"Li": 6.94, "Ti": 47.867, "Cl": 35.45}
BOX_A = 14.0
STRIDE = 10
SETTINGS = {
    "n_blocks": 3,
    "fit_window_ps": None,
    "stacking_hkl": None,
    "rdf_pairs": [],
    "max_host_msd_A2": None,
    "max_msd_exponent_deviation": 0.25,
}


def _run_files(tmp_path: Path) -> tuple[list[str], list[str], list[str]]:
    """48 Li random-walking in a rigid 16 Ti + 96 Cl host that recoils (momentum conserved)."""
    rng = np.random.default_rng(5)
    n_frames = 900
    li = rng.uniform(0, BOX_A, (48, 3)) + np.cumsum(rng.normal(0, 0.12, (n_frames, 48, 3)), 0)
    host_mass = 16 * MASS["Ti"] + 96 * MASS["Cl"]
    recoil = -MASS["Li"] * (li - li[0]).sum(axis=1) / host_mass
    host = rng.uniform(0, BOX_A, (112, 3))[None] + recoil[:, None, :]
    types = np.array([1] * 48 + [2] * 16 + [3] * 96)
    positions = np.concatenate([li, host], axis=1)
    with open(tmp_path / "dump.mobile.lammpstrj", "w") as handle:
        for i, pos in enumerate(li):
            write_lammps_dump(handle, i * STRIDE, BOX_A * np.eye(3), pos, types[:48])
    with open(tmp_path / "dump.all.lammpstrj", "w") as handle:
        for i in range(0, n_frames, 100):
            write_lammps_dump(handle, i * STRIDE, BOX_A * np.eye(3), positions[i], types)
    weights = np.array([MASS["Ti"]] * 16 + [MASS["Cl"]] * 96)
    com = host.transpose(0, 2, 1) @ weights / weights.sum()
    rows = "".join(f"{i * STRIDE} {x:.10g} {y:.10g} {z:.10g}\n" for i, (x, y, z) in enumerate(com))
    (tmp_path / "host_com.txt").write_text("# fix hostcom\n# TimeStep c_hostcom[1]\n" + rows)
    return (
        [str(tmp_path / "dump.mobile.lammpstrj")],
        [str(tmp_path / "dump.all.lammpstrj")],
        [str(tmp_path / "host_com.txt")],
    )


def _md_document(mobile: list[str], every: list[str], host_com: list[str]) -> dict:
    def dump(path: str, kind: str) -> dict:
        return {
            "kind": kind,
            "path": path,
            "size_bytes": 1,
            "sha256": "",
            "n_frames": 1,
            "first_step": 0,
            "last_step": 8990,
            "every_steps": STRIDE,
            "in_data_store": False,
        }

    return LammpsMDDocument(
        model_path="graph.pb",
        elements=["Li", "Ti", "Cl"],
        mobile_species=["Li"],
        n_atoms=160,
        temperature_K=600.0,
        time_step_fs=1.0,
        tdamp_fs=100.0,
        seed=1,
        n_steps_requested=8990,
        n_steps_done=8990,
        completed=True,
        n_chunks=1,
        equilibration_steps=0,
        temperature_mean_K=600.0,
        temperature_std_K=30.0,
        temperature_rel_std_expected=0.06,
        energy_drift_meV_atom_ps=0.0,
        finite=True,
        n_frames_mobile=900,
        n_frames_all=9,
        throughput_katom_step_s=None,
        ns_per_day=None,
        corrections=[],
        chunks=[],
        dump_files=[dump(mobile[0], "mobile"), dump(every[0], "all")],
        host_com_files=host_com,
        thermo={},
        dump_blobs={},
    ).model_dump()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_analysis_job_measures_against_the_host_centre_of_mass(tmp_path: Path) -> None:
    mobile, every, host_com = _run_files(tmp_path)
    args = ("md-uuid", "s", {"Ti": 4.0}, 600.0, None, 600.0, "Li", SETTINGS)
    doc = analyze_run.original(_md_document(mobile, every, host_com), *args)
    box = analyze_run.original(_md_document(mobile, every, []), *args)
    assert doc.completed and box.completed, (doc.failure_reason, box.failure_reason)
    assert doc.reference_frame == "host centre of mass"
    assert box.reference_frame == "simulation box"
    assert any("drift correction is impossible" in w for w in box.warnings)
    factor = (1 + 48 * MASS["Li"] / (16 * MASS["Ti"] + 96 * MASS["Cl"])) ** 2  # 1.166
    assert doc.D_total_cm2_s / box.D_total_cm2_s == pytest.approx(factor, rel=1e-3)
    assert doc.n_blocks == 3 and doc.stderr_dof == 2
    # 95 % Student t with 2 degrees of freedom: 4.3026527 (tables)
    lo, hi = doc.D_self_interval_cm2_s
    assert (hi - lo) / 2 == pytest.approx(4.3026527 * doc.D_self_stderr_cm2_s, rel=1e-6)
    assert doc.msd_exponent_self == pytest.approx(1.0, abs=0.1) and doc.diffusive
