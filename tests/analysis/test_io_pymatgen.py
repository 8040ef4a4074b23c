"""Frames from a pymatgen Trajectory."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.core.trajectory import Trajectory

from litcl_flows.io import TrajectoryFormatError, iter_pymatgen


def _structures() -> list[Structure]:
    lattice = Lattice([[8.0, 0.0, 0.0], [1.0, 7.0, 0.0], [0.5, 0.5, 6.0]])
    frac = np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5], [0.9, 0.1, 0.7]])
    return [
        Structure(lattice, ["Li", "Cl", "Li"], frac + 0.01 * t, coords_are_cartesian=False)
        for t in range(4)
    ]


def test_pymatgen_trajectory_frames() -> None:
    structures = _structures()
    frames = list(iter_pymatgen(Trajectory.from_structures(structures), species={"Li"}))
    assert [f.step for f in frames] == [0, 1, 2, 3]
    assert frames[0].symbols.tolist() == ["Li", "Li"]
    assert not frames[0].unwrapped
    for frame, structure in zip(frames, structures, strict=True):
        assert np.allclose(frame.cell_A, structure.lattice.matrix)
        # Cartesian = fractional @ lattice rows, for Li (sites 0 and 2).
        expected = structure.frac_coords[[0, 2]] @ structure.lattice.matrix
        assert np.allclose(frame.positions_A, expected)


def test_pymatgen_changed_species_is_refused() -> None:
    structures = _structures()
    structures[2] = Structure(structures[2].lattice, ["Cl", "Cl", "Li"], structures[2].frac_coords)
    with pytest.raises(TrajectoryFormatError, match=r"<pymatgen Trajectory>: frame 2: 3 atoms"):
        list(iter_pymatgen(structures))
