"""The frame every trajectory reader yields, and the error every reader raises on bad input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class TrajectoryFormatError(ValueError):
    """Malformed or unusable trajectory input; the message names the file and the frame."""


@dataclass(frozen=True)
class Frame:
    """One MD snapshot, reduced to the atoms a reader was asked to keep.

    Attributes
    ----------
    step
        MD step number of the snapshot (LAMMPS ``TIMESTEP``, VASP ionic step); time is
        ``step × time_step_fs``.
    cell_A
        Lattice vectors as rows, shape (3, 3), in Å.
    positions_A
        Cartesian positions, shape (n_atoms, 3), float64, in Å, ordered by atom id.
    symbols
        Element (or type label) of each kept atom, shape (n_atoms,); the same every frame.
    unwrapped
        True when the positions are already continuous across periodic boundaries (unwrapped
        dump columns or image flags); False when they are wrapped into the cell.
    """

    step: int
    cell_A: np.ndarray
    positions_A: np.ndarray
    symbols: np.ndarray
    unwrapped: bool


def check_cell(cell_A: np.ndarray, source: str, frame: int) -> None:
    """Raise `TrajectoryFormatError` unless the cell has a finite, positive volume."""
    volume = float(np.linalg.det(cell_A)) if np.all(np.isfinite(cell_A)) else float("nan")
    if not volume > 1e-6:
        raise TrajectoryFormatError(
            f"{source}: frame {frame}: cell volume is {volume:g} Å^3 (zero, negative or not finite)"
        )


def check_positions(positions_A: np.ndarray, source: str, frame: int, step: int) -> None:
    """Raise `TrajectoryFormatError` if any coordinate is NaN or infinite."""
    if not np.all(np.isfinite(positions_A)):
        bad = int(np.count_nonzero(~np.isfinite(positions_A).all(axis=1)))
        raise TrajectoryFormatError(
            f"{source}: frame {frame} (step {step}): {bad} atoms have non-finite coordinates"
        )
