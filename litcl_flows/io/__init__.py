"""Science core: streaming readers of MD trajectories (LAMMPS, VASP, ASE, pymatgen).

Every reader yields `Frame` objects one at a time and raises `TrajectoryFormatError` (a
``ValueError``) with the file and frame in its one-line message on bad input.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal

from litcl_flows.io.ase_io import iter_ase, iter_pymatgen
from litcl_flows.io.frames import Frame, TrajectoryFormatError
from litcl_flows.io.lammps import iter_lammps_dump, write_lammps_dump
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
    path: str | Path,
    format: TrajectoryFormat | None = None,
    type_map: Sequence[str] | None = None,
    species: Collection[str] | None = None,
    handle: BinaryIO | None = None,
) -> Iterator[Frame]:
    """Stream frames from ``path`` in any supported format (guessed from the name if None).

    ``handle`` (LAMMPS only) is an already-open binary file for ``path``, e.g. one wrapped by
    a progress bar.
    """
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


__all__ = [
    "FORMATS",
    "Frame",
    "TrajectoryFormat",
    "TrajectoryFormatError",
    "guess_format",
    "iter_ase",
    "iter_frames",
    "iter_lammps_dump",
    "iter_pymatgen",
    "iter_vasprun",
    "iter_xdatcar",
    "write_lammps_dump",
]
