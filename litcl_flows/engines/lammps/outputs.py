"""What a finished LAMMPS chunk left on disk, read into plain values: thermo statistics over the
merged logs, dump-file facts, the data file's atoms, the binary's version, custodian's record.

No jobflow here: :meth:`litcl_flows.makers.lammps.LammpsDeepmdMDMaker.summarize` assembles the
run's document from these.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from litcl_flows.engines.lammps.custodian import STDOUT_FILE
from litcl_flows.engines.lammps.dumps import dump_timesteps
from litcl_flows.engines.lammps.inputs import DATA_FILE, RESTART_PATTERN, latest_restart
from litcl_flows.engines.lammps.log import LammpsLog, merge_md_thermo


@dataclass(frozen=True)
class ThermoSummary:
    """The MD thermo of consecutive chunks, each step once, and its statistics after
    equilibration.

    Attributes
    ----------
    thermo
        Column name → values (``Step``, ``Temp``, ``Econserve``, …).
    temperature_mean_K, temperature_std_K
        Of the rows from ``equilibration_steps`` on.
    energy_drift_eV_ps
        Slope of ``Econserve`` against time over those rows (NaN with fewer than two).
    finite
        True when every thermo value is finite.
    """

    thermo: dict[str, list[float]]
    temperature_mean_K: float
    temperature_std_K: float
    energy_drift_eV_ps: float
    finite: bool


def summarize_thermo(
    logs: list[LammpsLog], equilibration_steps: int, time_step_fs: float
) -> ThermoSummary:
    """Merge the chunks' MD thermo (:func:`merge_md_thermo`) and take its statistics."""
    columns, rows = merge_md_thermo(logs)
    table = np.array(rows)
    steady = table[table[:, 0] >= equilibration_steps]
    temp = steady[:, columns.index("Temp")]
    time_ps = steady[:, 0] * time_step_fs / 1000
    econs = steady[:, columns.index("Econserve")]
    drift = float(np.polyfit(time_ps, econs, 1)[0]) if len(steady) > 1 else math.nan
    return ThermoSummary(
        thermo={name: table[:, i].tolist() for i, name in enumerate(columns)},
        temperature_mean_K=float(temp.mean()),
        temperature_std_K=float(temp.std()),
        energy_drift_eV_ps=drift,
        finite=bool(np.isfinite(table).all()),
    )


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (dumps reach gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_facts(path: Path) -> dict[str, Any]:
    """Size, checksum, frame count and first/last frame step of a dump file."""
    steps = list(dump_timesteps(path))
    return {
        "size_bytes": path.stat().st_size,
        "sha256": file_sha256(path),
        "n_frames": len(steps),
        "first_step": steps[0] if steps else None,
        "last_step": steps[-1] if steps else None,
    }


def gzip_base64(path: Path) -> str:
    """A file as base64 text of its gzip: the embedded store (sqlite) compresses nothing, and a
    text dump shrinks about fourfold."""
    return base64.b64encode(gzip.compress(path.read_bytes())).decode()


def data_file_atom_count(directory: Path) -> int:
    """Atom count from the header of the data file in ``directory``."""
    with open(directory / DATA_FILE) as handle:
        for line in handle:
            if line.strip().endswith("atoms"):
                return int(line.split()[0])
    raise ValueError(f"no atom count in {directory / DATA_FILE}")


def data_file_composition(directory: Path, elements: list[str]) -> dict[str, int]:
    """Atoms per element, from the ``Atoms`` section of the data file in ``directory``
    (``id type x y z``; type k is ``elements[k - 1]``); empty when it has none."""
    counts: Counter[str] = Counter()
    with open(directory / DATA_FILE) as handle:
        for line in handle:
            if line.split("#")[0].strip() == "Atoms":
                break
        for line in handle:
            fields = line.split()
            if counts and not fields:
                break
            if fields:
                counts[elements[int(fields[1]) - 1]] += 1
    return dict(counts)


def lammps_version(directory: Path) -> dict[str, str]:
    """``{"lammps": "22 Jul 2025 - Update 2"}``: the version the binary printed first on its
    screen output (the binary that ran, which need not be the ``lammps`` Python package)."""
    path = directory / STDOUT_FILE
    if not path.is_file():
        return {}
    with open(path, errors="replace") as handle:
        match = re.match(r"LAMMPS \((.+?)\)", handle.readline())
    return {"lammps": match[1]} if match else {}


def custodian_corrections(directory: Path) -> list[dict]:
    """Corrections custodian recorded in ``custodian.json`` (errors, actions)."""
    path = directory / "custodian.json"
    if not path.exists():
        return []
    return [
        {"errors": c["errors"], "actions": c["actions"]}
        for entry in json.loads(path.read_text())
        for c in entry.get("corrections", [])
    ]


def keep_latest_restart(directory: Path) -> None:
    """Delete all restart files but the newest (for 20,000 atoms each is megabytes)."""
    latest = latest_restart(directory)
    for path in directory.iterdir():
        if RESTART_PATTERN.match(path.name) and latest and path != latest[0]:
            path.unlink()
