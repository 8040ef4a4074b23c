"""Parse a LAMMPS log: thermo blocks (``-nan`` accepted), stages, performance lines, errors."""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from litcl_flows.engines.lammps.inputs import STAGE_MARK
from litcl_flows.schemas.lammps import Performance

_PERFORMANCE = re.compile(
    r"^Performance:\s+(?P<ns_day>[\d.eE+-]+) ns/day.*?"
    r"[\d.eE+-]+ timesteps/s(?:,\s+(?P<katom>[\d.eE+-]+) katom-step/s)?"
)
_LOOP = re.compile(
    r"^Loop time of (?P<seconds>[\d.eE+-]+) on (?P<procs>\d+) procs for (?P<steps>\d+) steps"
)


def _number(text: str) -> float:
    """A thermo value; LAMMPS prints non-finite numbers as ``nan``, ``-nan``, ``inf``."""
    return float(text.replace("-nan", "nan"))


@dataclass
class ThermoBlock:
    """One thermo table: the header's column names and the rows, with the stage it belongs to."""

    stage: str
    columns: list[str]
    rows: list[list[float]] = field(default_factory=list)
    #: From the ``Loop time`` line and the ``Performance:`` line after it (as stored).
    performance: Performance | None = None

    def column(self, name: str) -> list[float]:
        """The values of one column."""
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


@dataclass
class LammpsLog:
    """The parsed content of a log (or screen output)."""

    blocks: list[ThermoBlock]
    errors: list[str]
    walltime_reached: bool

    @property
    def md_blocks(self) -> list[ThermoBlock]:
        """Thermo blocks of MD runs (not minimisation)."""
        return [b for b in self.blocks if b.stage == "md"]

    @property
    def last_step(self) -> int | None:
        """Step of the last thermo row of an MD block (None before any)."""
        rows = [row for b in self.md_blocks for row in b.rows]
        return int(rows[-1][0]) if rows else None

    @property
    def has_nonfinite(self) -> bool:
        """Whether any MD thermo value is nan or inf."""
        return any(not math.isfinite(v) for b in self.md_blocks for row in b.rows for v in row)


def parse_log(path: Path | str) -> LammpsLog:
    """Parse a LAMMPS log or screen file.

    Thermo blocks run from a header line starting with ``Step`` to ``Loop time``; a block is
    ``minimize`` or ``md`` after the stage marks the litcl input prints, ``md`` otherwise.
    Rows that do not parse as one number per column (warnings in between) are skipped.
    """
    blocks: list[ThermoBlock] = []
    errors: list[str] = []
    walltime_reached = False
    stage = "md"
    current: ThermoBlock | None = None
    with open(path, errors="replace") as handle:
        for raw in handle:
            line = raw.strip()
            if line.startswith(STAGE_MARK):
                stage = line.removeprefix(STAGE_MARK).strip()
            elif line.startswith("ERROR"):
                errors.append(line)
            elif "Wall time limit reached" in line:
                walltime_reached = True
            elif line.startswith("Step ") or line == "Step":
                current = ThermoBlock(stage=stage, columns=line.split())
                blocks.append(current)
            elif current is not None and (m := _LOOP.match(line)):
                current.performance = Performance(
                    ns_per_day=math.nan,
                    throughput_katom_step_s=None,
                    loop_time_s=float(m["seconds"]),
                    n_procs=int(m["procs"]),
                    n_steps=int(m["steps"]),
                )
            elif current is not None and current.performance and (m := _PERFORMANCE.match(line)):
                current.performance.ns_per_day = float(m["ns_day"])
                if m["katom"]:
                    current.performance.throughput_katom_step_s = float(m["katom"])
                current = None
            elif current is not None and current.performance is None:
                fields = line.split()
                if len(fields) == len(current.columns):
                    # a warning with as many words as columns is not a row
                    with contextlib.suppress(ValueError):
                        current.rows.append([_number(f) for f in fields])
    return LammpsLog(blocks=blocks, errors=errors, walltime_reached=walltime_reached)


def merge_md_thermo(logs: list[LammpsLog]) -> tuple[list[str], list[list[float]]]:
    """MD thermo rows of consecutive segments, each step once.

    A segment that restarts from step s replaces the earlier rows from step s on (the run it
    continues may have printed rows past s before failing, and prints step s again itself).
    """
    columns: list[str] = []
    rows: list[list[float]] = []
    for log in logs:
        for block in log.md_blocks:
            if not block.rows:
                continue
            columns = columns or block.columns
            if block.columns != columns:
                raise ValueError(f"thermo columns changed: {block.columns} after {columns}")
            first = block.rows[0][0]
            rows = [r for r in rows if r[0] < first] + block.rows
    return columns, rows
