"""The frame of reference of the transport numbers (issue 15, item 1).

Synthetic Li48Ti16Cl96 with total momentum conserved: Li random-walk, the host moves rigidly
by −m_Li Σ Δr_Li / M_host (its recoil). Relative to the host's centre of mass the collective
displacement is Σ Δr_Li (1 + N m_Li / M_host), so D_total measured in the simulation box is
too small by exactly (1 + N m_Li / M_host)² ≈ 1.166: the hand value the tests pin.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from litcl_flows.analysis.md_run import analyze_md_run
from litcl_flows.analysis.trajectory import TransportWarning, collect_mobile
from litcl_flows.analysis.transport import analyze_trajectory
from litcl_flows.io import Frame, write_lammps_dump

#: Standard atomic weights (IUPAC), g/mol.
MASS = {"Li": 6.94, "Ti": 47.867, "Cl": 35.45}
N_LI, N_TI, N_CL = 48, 16, 96
BOX_A = 14.0
STRIDE = 10


def _momentum_conserving_run(n_frames: int = 1200, seed: int = 0):
    rng = np.random.default_rng(seed)
    li = rng.uniform(0, BOX_A, (N_LI, 3)) + np.cumsum(
        rng.normal(0, 0.12, (n_frames, N_LI, 3)), axis=0
    )
    host_mass = N_TI * MASS["Ti"] + N_CL * MASS["Cl"]
    recoil = -MASS["Li"] * (li - li[0]).sum(axis=1) / host_mass  # (T, 3)
    host0 = rng.uniform(0, BOX_A, (N_TI + N_CL, 3))
    host = host0[None] + recoil[:, None, :]
    symbols = np.array(["Li"] * N_LI + ["Ti"] * N_TI + ["Cl"] * N_CL)
    return np.concatenate([li, host], axis=1), symbols, recoil


def _frames(positions: np.ndarray, symbols: np.ndarray, keep: np.ndarray):
    for i, pos in enumerate(positions):
        yield Frame(i * STRIDE, BOX_A * np.eye(3), pos[keep], symbols[keep], True)


def test_li_only_frames_with_the_host_com_match_all_atom_frames_and_recover_the_recoil():
    positions, symbols, recoil = _momentum_conserving_run()
    every = np.ones(len(symbols), bool)
    li_only = symbols == "Li"
    all_atoms = collect_mobile(_frames(positions, symbols, every), "Li")
    # The host COM as LAMMPS writes it: mass-weighted mean of the host atoms, by hand.
    weights = np.array([MASS[s] for s in symbols[~li_only]])
    com = np.einsum("tai,a->ti", positions[:, ~li_only], weights) / weights.sum()
    with_com = collect_mobile(
        _frames(positions, symbols, li_only),
        "Li",
        host_com_A={i * STRIDE: c for i, c in enumerate(com)},
    )
    assert np.allclose(with_com.positions_A, all_atoms.positions_A, atol=1e-9)
    assert with_com.reference_frame == all_atoms.reference_frame == "host centre of mass"
    # pymatgen's masses differ from the IUPAC weights above in the 4th digit
    assert np.allclose(all_atoms.drift_A, recoil - recoil[0], rtol=1e-3, atol=1e-6)

    with pytest.warns(TransportWarning, match="drift correction is impossible"):
        box = collect_mobile(_frames(positions, symbols, li_only), "Li")
    assert box.reference_frame == "simulation box"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransportWarning)
        corrected = analyze_trajectory(all_atoms, 600.0, 1.0, n_blocks=3)
        uncorrected = analyze_trajectory(box, 600.0, 1.0, n_blocks=3)
    factor = (1 + N_LI * MASS["Li"] / (N_TI * MASS["Ti"] + N_CL * MASS["Cl"])) ** 2
    assert factor == pytest.approx(1.166, abs=1e-3)  # the measured ratio
    ratio = corrected.D_total_cm2_s / uncorrected.D_total_cm2_s
    assert ratio == pytest.approx(factor, rel=2e-3)
    assert corrected.reference_frame == "host centre of mass"
    assert uncorrected.reference_frame == "simulation box"


def _write(path: Path, positions: np.ndarray, types: np.ndarray) -> None:
    with open(path, "w") as handle:
        for i, pos in enumerate(positions):
            write_lammps_dump(handle, i * STRIDE, BOX_A * np.eye(3), pos, types)


def test_study_analysis_reads_the_lammps_host_com_file(tmp_path: Path) -> None:
    positions, symbols, _ = _momentum_conserving_run(n_frames=900, seed=1)
    types = np.array([{"Li": 1, "Ti": 2, "Cl": 3}[s] for s in symbols])
    li_only = symbols == "Li"
    _write(tmp_path / "mobile.lammpstrj", positions[:, li_only], types[li_only])
    _write(tmp_path / "all.lammpstrj", positions[::100], types)
    weights = np.array([MASS[s] for s in symbols[~li_only]])
    com = np.einsum("tai,a->ti", positions[:, ~li_only], weights) / weights.sum()
    # Two chunks as LAMMPS's fix ave/time writes them; the join step appears twice.
    header = (
        "# Time-averaged data for fix hostcom\n# TimeStep c_hostcom[1] c_hostcom[2] c_hostcom[3]\n"
    )
    for name, rows in (("a.txt", range(0, 500)), ("b.txt", range(499, 900))):
        body = "".join(
            f"{i * STRIDE} {c[0]:.10g} {c[1]:.10g} {c[2]:.10g}\n"
            for i, c in ((i, com[i]) for i in rows)
        )
        (tmp_path / name).write_text(header + body)
    kwargs = dict(
        type_map=["Li", "Ti", "Cl"], mobile="Li", temperature_K=600.0, time_step_fs=1.0, n_blocks=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with_com = analyze_md_run(
            [tmp_path / "mobile.lammpstrj"],
            [tmp_path / "all.lammpstrj"],
            host_com_files=[tmp_path / "a.txt", tmp_path / "b.txt"],
            **kwargs,
        )
        box = analyze_md_run(
            [tmp_path / "mobile.lammpstrj"], [tmp_path / "all.lammpstrj"], **kwargs
        )
    assert with_com.transport.reference_frame == "host centre of mass"
    assert box.transport.reference_frame == "simulation box"
    assert any("drift correction is impossible" in w for w in box.warnings)
    factor = (1 + N_LI * MASS["Li"] / (N_TI * MASS["Ti"] + N_CL * MASS["Cl"])) ** 2
    # the dump rounds positions to 1e-6 Å: the ratio is the hand factor to 1e-3
    ratio = with_com.transport.D_total_cm2_s / box.transport.D_total_cm2_s
    assert ratio == pytest.approx(factor, rel=1e-3)
