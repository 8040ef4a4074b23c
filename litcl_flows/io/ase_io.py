"""Frames from any trajectory ASE reads (``.traj``, ``OUTCAR``, extxyz, …) and from pymatgen."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from litcl_flows.io.frames import Frame, TrajectoryFormatError, check_cell, check_positions


def iter_ase(
    path: str | Path, species: Collection[str] | None = None, format: str | None = None
) -> Iterator[Frame]:
    """Yield frames through ``ase.io.iread`` (which streams), ``Frame.step`` = frame index.

    Positions are taken as wrapped (``unwrapped=False``) because ASE formats carry no image
    flags; minimum-image unwrapping downstream is also correct for unwrapped input.
    """
    from ase.io import iread

    label = str(path)
    try:
        atoms = iread(label, index=":", format=format)
        snapshots = ((a.cell.array, a.positions, a.get_chemical_symbols()) for a in atoms)
        yield from _frames(snapshots, species, label)
    except TrajectoryFormatError:
        raise
    except Exception as err:  # ASE raises many types for unreadable files
        raise TrajectoryFormatError(f"{label}: ASE could not read it ({err})") from err


def iter_pymatgen(
    trajectory: Iterable[Any],
    species: Collection[str] | None = None,
    name: str = "<pymatgen Trajectory>",
) -> Iterator[Frame]:
    """Yield frames from a pymatgen ``Trajectory`` (or any iterable of ``Structure``)."""
    yield from _frames(
        ((s.lattice.matrix, s.cart_coords, [site.specie.symbol for site in s]) for s in trajectory),
        species,
        name,
    )


def _frames(
    snapshots: Iterable[tuple[np.ndarray, np.ndarray, list[str]]],
    species: Collection[str] | None,
    label: str,
) -> Iterator[Frame]:
    symbols = keep = None
    for index, (cell, positions, names) in enumerate(snapshots):
        cell = np.asarray(cell, dtype=np.float64)
        check_cell(cell, label, index)
        current = np.asarray(names, dtype=str)
        if symbols is None:
            symbols = current
            keep = (
                np.ones(len(current), bool) if species is None else np.isin(current, list(species))
            )
        elif not np.array_equal(current, symbols):
            raise TrajectoryFormatError(
                f"{label}: frame {index}: {len(current)} atoms or their order differ from frame 0"
            )
        pos = np.asarray(positions, dtype=np.float64)[keep]
        check_positions(pos, label, index, index)
        yield Frame(index, cell, pos, symbols[keep], False)
