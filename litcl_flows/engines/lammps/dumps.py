"""Minimal streaming helpers for LAMMPS text dumps: frame steps, counting, truncation.

Reading coordinates for analysis belongs to :mod:`litcl_flows.io`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def dump_timesteps(path: Path | str) -> Iterator[int]:
    """The timestep of each frame, in file order, read line by line."""
    with open(path) as handle:
        for line in handle:
            if line.startswith("ITEM: TIMESTEP"):
                yield int(next(handle))


def count_frames(path: Path | str) -> int:
    """Number of frames (``ITEM: TIMESTEP`` records) in a dump file."""
    return sum(1 for _ in dump_timesteps(path))


def truncate_dump(path: Path | str, last_step: int) -> int:
    """Drop the frames after ``last_step``, in place; return the number of frames kept.

    Used before restarting from a restart file at ``last_step``: the failed run may have written
    frames past it, which the restarted run writes again.
    """
    path = Path(path)
    kept = 0
    cut: int | None = None
    with open(path, "rb") as handle:
        offset = 0
        while line := handle.readline():
            if line.startswith(b"ITEM: TIMESTEP"):
                step_line = handle.readline()
                if int(step_line) > last_step:
                    cut = offset
                    break
                kept += 1
                offset += len(line) + len(step_line)
                continue
            offset += len(line)
    if cut is not None:
        os.truncate(path, cut)
    return kept


def truncate_table(path: Path | str, last_step: int) -> int:
    """Drop the rows of a ``step …`` table (``fix ave/time`` file) after ``last_step``, in
    place, keeping ``#`` comment lines; return the number of data rows kept."""
    path = Path(path)
    kept_lines = []
    for line in path.read_text().splitlines(keepends=True):
        fields = line.split()
        if line.startswith("#") or not fields or int(float(fields[0])) <= last_step:
            kept_lines.append(line)
    path.write_text("".join(kept_lines))
    return sum(1 for line in kept_lines if line.strip() and not line.startswith("#"))
