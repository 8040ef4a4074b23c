"""Science core: streaming readers of MD trajectories (LAMMPS, VASP, ASE, pymatgen).

Every reader yields `Frame` objects one at a time and raises `TrajectoryFormatError` (a
``ValueError``) with the file and frame in its one-line message on bad input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from litcl_flows.io.ase_io import iter_ase, iter_pymatgen
from litcl_flows.io.frames import Frame, TrajectoryFormatError
from litcl_flows.io.lammps import iter_lammps_dump, read_host_com, write_lammps_dump
from litcl_flows.io.vasp import iter_vasprun, iter_xdatcar

TrajectoryFormat = Literal["lammps-dump", "xdatcar", "vasprun", "ase"]
FORMATS: tuple[str, ...] = ("lammps-dump", "xdatcar", "vasprun", "ase")


def guess_format(path: str | Path) -> TrajectoryFormat:
    """Format from the file name: ``XDATCAR*``, ``*.xml``, dump-like names, else ASE."""
    name = Path(path).name.lower()
    if name.startswith("xdatcar"):
        return "xdatcar"
    if name.endswith(".xml"):
        return "vasprun"
    if any(k in name for k in ("dump", "lammpstrj")):
        return "lammps-dump"
    return "ase"


def iter_frames(
    path: str | Path | Sequence[str | Path],
    format: TrajectoryFormat | None = None,
    type_map: Sequence[str] | None = None,
    species: Collection[str] | None = None,
    handle: BinaryIO | None = None,
) -> Iterator[Frame]:
    """Stream frames from ``path`` in any supported format (guessed from the name if None).

    ``path`` may be a sequence of files, the chunks of a restarted run in order: they are
    joined by `chain_frames` (the frame repeated at each join is dropped). ``handle`` (LAMMPS,
    single file only) is an already-open binary file for ``path``, e.g. one wrapped by a
    progress bar.
    """
    if not isinstance(path, str | Path):
        paths = list(path)
        if handle is not None:
            raise ValueError("handle is only accepted with a single trajectory file")
        return chain_frames(
            (iter_frames(p, format, type_map, species) for p in paths), [str(p) for p in paths]
        )
    fmt = format or guess_format(path)
    if fmt == "lammps-dump":
        return iter_lammps_dump(handle or path, type_map, species, name=str(path))
    if fmt == "xdatcar":
        return iter_xdatcar(path, species)
    if fmt == "vasprun":
        return iter_vasprun(path, species)
    if fmt == "ase":
        return iter_ase(path, species)
    raise ValueError(f"unknown trajectory format {fmt!r}; choose from {', '.join(FORMATS)}")


def chain_frames(chunks: Iterable[Iterable[Frame]], labels: Sequence[str]) -> Iterator[Frame]:
    """Join the frame streams of consecutive restart chunks into one continuous stream.

    A restarted MD run writes the restart step twice: last frame of one chunk, first of the
    next. At each join the leading frames whose step is not after the last step already
    yielded are dropped (the earlier chunk's copy wins); within a chunk nothing is dropped, so
    `collect_mobile` still sees any uneven spacing.

    Parameters
    ----------
    chunks
        One frame stream per file, in run order.
    labels
        File names, same order, for error messages.

    Raises
    ------
    TrajectoryFormatError
        When a chunk holds other atoms (count or species) than the first one.
    """
    last_step: int | None = None
    symbols: np.ndarray | None = None
    for label, frames in zip(labels, chunks, strict=True):
        first_kept = True
        for index, frame in enumerate(frames):
            if first_kept and last_step is not None and frame.step <= last_step:
                continue
            # Readers keep the atoms fixed within a file; only a chunk's first frame can differ.
            if first_kept and symbols is not None and not np.array_equal(frame.symbols, symbols):
                raise TrajectoryFormatError(
                    f"{label}: frame {index} (step {frame.step}): {len(frame.symbols)} atoms "
                    f"or their species differ from {labels[0]}"
                )
            first_kept = False
            symbols = frame.symbols if symbols is None else symbols
            last_step = frame.step
            yield frame


__all__ = [
    "FORMATS",
    "Frame",
    "TrajectoryFormat",
    "TrajectoryFormatError",
    "chain_frames",
    "guess_format",
    "iter_ase",
    "iter_frames",
    "iter_lammps_dump",
    "iter_pymatgen",
    "iter_vasprun",
    "iter_xdatcar",
    "read_host_com",
    "write_lammps_dump",
]
