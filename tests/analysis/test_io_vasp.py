"""VASP MD readers on the real outputs in third_party/vasp_aimd, and an XDATCAR round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from litcl_flows.io import TrajectoryFormatError, iter_ase, iter_frames, iter_vasprun, iter_xdatcar

H2O = "vasp_aimd/H2O_nve_10steps_dpdata"


def test_vasprun_h2o_triclinic(third_party_dir: Path) -> None:
    frames = list(iter_vasprun(third_party_dir / H2O / "vasprun.xml"))
    assert len(frames) == 10
    assert frames[0].symbols.tolist() == ["O", "O", "H", "H", "H", "H"]
    # README: slightly triclinic 10 Å cell, a2 = (-0.011409, 10, 0), a3 = (0.1411083, ...).
    assert np.allclose(frames[0].cell_A[1], [-0.011409, 10.0, 0.0])
    assert np.allclose(frames[0].cell_A[2], [0.1411083, -0.0595569, 10.0])
    assert abs(np.linalg.det(frames[-1].cell_A)) == pytest.approx(1000.0, rel=1e-6)
    # The OUTCAR of the same run, read by ASE, holds the same positions.
    outcar = list(iter_ase(third_party_dir / H2O / "OUTCAR"))
    assert len(outcar) == 10
    for ours, ase_frame in zip(frames, outcar, strict=True):
        delta = (ours.positions_A - ase_frame.positions_A) @ np.linalg.inv(ours.cell_A)
        assert np.allclose(delta - np.round(delta), 0.0, atol=1e-5)


def test_outcar_npt_li7p3s11(third_party_dir: Path) -> None:
    path = third_party_dir / "vasp_aimd/Li7P3S11_npt_langevin_custodian/OUTCAR"
    frames = list(iter_frames(path, "ase", species={"Li"}))
    assert len(frames) == 10
    assert frames[0].positions_A.shape == (28, 3)
    volumes = [abs(np.linalg.det(f.cell_A)) for f in frames]
    # README: NPT, volume 1752.71 → 1765.31 Å³, cell changes every step.
    assert volumes[0] == pytest.approx(1752.71, abs=0.01)
    assert volumes[-1] == pytest.approx(1765.31, abs=0.01)
    assert len({round(v, 4) for v in volumes}) == 10


def test_xdatcar_round_trip_against_pymatgen(tmp_path: Path) -> None:
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.trajectory import Trajectory
    from pymatgen.io.vasp.outputs import Xdatcar

    rng = np.random.default_rng(0)
    lattice = Lattice([[7.0, 0, 0], [1.0, 8.0, 0], [0.5, 0.3, 9.0]])
    structures = [Structure(lattice, ["Li"] * 3 + ["Cl"] * 2, rng.random((5, 3))) for _ in range(4)]
    path = tmp_path / "XDATCAR"
    Trajectory.from_structures(structures, constant_lattice=True).write_Xdatcar(str(path))
    reference = Xdatcar(str(path)).structures
    frames = list(iter_xdatcar(path, species={"Li"}))
    assert [f.step for f in frames] == [1, 2, 3, 4]
    for frame, structure in zip(frames, reference, strict=True):
        assert np.allclose(frame.cell_A, structure.lattice.matrix)
        assert np.allclose(frame.positions_A, structure.cart_coords[:3])
    truncated = tmp_path / "XDATCAR_cut"
    truncated.write_text("\n".join(path.read_text().splitlines()[:-2]))
    with pytest.raises(TrajectoryFormatError, match=r"XDATCAR_cut: frame 3 \(step 4\)"):
        list(iter_xdatcar(truncated))
