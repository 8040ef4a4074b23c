"""Parsers for DeePMD-kit outputs (``lcurve.out``, ``dp test -d`` detail files, ``dp`` logs)
and the error metrics computed from them.

DeePMD-kit writes these files but has no reader for them (``dp test`` only logs its averages),
so they are parsed here with numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LCURVE_FILE = "lcurve.out"
DETAIL_PREFIX = "dp_test"


def read_lcurve(path: str | Path) -> dict[str, np.ndarray]:
    """Columns of an ``lcurve.out`` by name (v2 and v3 formats; ``nan`` rows kept).

    The first ``#`` line names the columns (``step rmse_val rmse_trn ... lr``); other ``#``
    lines (v3 prints a note) are skipped. Returns ``{name: array}``: empty arrays when the
    file has a header but no rows yet, ``{}`` when the file is still empty.
    """
    lines = Path(path).read_text().splitlines()
    if not lines:
        return {}  # dp train creates the file before it writes the header
    header = next((ln for ln in lines if ln.startswith("#")), None)
    if header is None:
        raise ValueError(f"{path}: no '#' header line naming the columns")
    names = header.lstrip("#").split()
    rows = [ln.split() for ln in lines if ln.strip() and not ln.startswith("#")]
    # A monitor may read while dp writes: ignore a last row that is not complete yet.
    if rows and len(rows[-1]) != len(names):
        rows = rows[:-1]
    table = np.array([[float(x) for x in row] for row in rows], dtype=float)
    table = table.reshape(len(rows), len(names))
    return {name: table[:, i] for i, name in enumerate(names)}


def lcurve_last_step(path: str | Path) -> int:
    """Last step written to ``lcurve.out`` (-1 if the file is missing or has no rows)."""
    path = Path(path)
    if not path.is_file():
        return -1
    steps = read_lcurve(path).get("step", np.array([]))
    return int(steps[-1]) if steps.size else -1


def first_nonfinite_step(path: str | Path) -> int | None:
    """First step whose loss columns (``rmse_*``) hold NaN or inf, or None."""
    curve = read_lcurve(path)
    losses = [v for k, v in curve.items() if k.startswith("rmse")]
    if not losses or not curve["step"].size:  # also covers the still-empty file
        return None
    bad = ~np.isfinite(np.column_stack(losses)).all(axis=1)
    return int(curve["step"][bad][0]) if bad.any() else None


def truncate_lcurve(path: str | Path, restart_step: int) -> None:
    """Drop ``lcurve.out`` rows from ``restart_step`` on: ``dp train --restart`` appends to the
    file and prints the row of its first step again."""
    lines = Path(path).read_text().splitlines(keepends=True)
    kept = [ln for ln in lines if ln.startswith("#") or int(ln.split()[0]) < restart_step]
    Path(path).write_text("".join(kept))


def read_detail_file(path: str | Path) -> list[tuple[str, np.ndarray]]:
    """Blocks of one ``dp test -d`` detail file: ``[(system, rows), ...]``.

    ``dp test`` appends one block per tested system, each under a header line
    ``# <system>: data_... pred_...``; columns are the reference labels, then predictions.
    """
    blocks: list[tuple[str, list[list[float]]]] = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            system = line.lstrip("#").split(":")[0].strip()
            blocks.append((system, []))
        elif line.strip():
            if not blocks:
                raise ValueError(f"{path}: values before the first '#' header")
            blocks[-1][1].append([float(x) for x in line.split()])
    return [(system, np.array(rows, dtype=float)) for system, rows in blocks]


@dataclass
class TestDetails:
    """Reference and predicted labels of a ``dp test -d PREFIX`` run, all systems joined.

    Energies are per frame (eV), forces per atom row (eV/Å) in the systems' atom order.
    """

    systems: list[str]
    energy_data_eV: np.ndarray
    energy_pred_eV: np.ndarray
    natoms: np.ndarray
    force_data_eV_A: np.ndarray
    force_pred_eV_A: np.ndarray
    force_atom_type: np.ndarray | None

    @property
    def has_labels(self) -> bool:
        """False when every reference value is 0: ``dp test`` on unlabelled frames."""
        return bool(np.any(self.energy_data_eV != 0) or np.any(self.force_data_eV_A != 0))


def read_test_details(prefix: str | Path, root: str | Path | None = None) -> TestDetails:
    """Read ``PREFIX.e.out``, ``PREFIX.e_peratom.out`` and ``PREFIX.f.out`` of ``dp test -d``.

    Parameters
    ----------
    prefix
        The ``-d`` argument given to ``dp test``.
    root
        Folder the system paths in the headers are relative to (the ``dp test`` working
        folder). When each system's ``type.raw`` is found there, force rows get their atom
        type (for per-element errors); else ``force_atom_type`` is None.
    """
    prefix = str(prefix)
    e_blocks = read_detail_file(prefix + ".e.out")
    ea_blocks = read_detail_file(prefix + ".e_peratom.out")
    f_blocks = read_detail_file(prefix + ".f.out")
    energy = np.concatenate([rows.reshape(-1, 2) for _, rows in e_blocks])
    e_atom = np.concatenate([rows.reshape(-1, 2) for _, rows in ea_blocks])
    forces = np.concatenate([rows.reshape(-1, 6) for _, rows in f_blocks])
    # natoms per frame from e / e_peratom; pred_e is never 0 for a real model.
    natoms = np.rint(energy[:, 1] / e_atom[:, 1]).astype(int)
    types: list[np.ndarray] | None = []
    for (system, e_rows), (_, f_rows) in zip(e_blocks, f_blocks, strict=True):
        type_file = Path(root or ".") / system / "type.raw"
        n_frames = e_rows.reshape(-1, 2).shape[0]
        if types is None or not type_file.is_file():
            types = None
            continue
        atom_type = np.loadtxt(type_file, dtype=int, ndmin=1)
        if atom_type.size * n_frames != f_rows.reshape(-1, 6).shape[0]:
            raise ValueError(f"{type_file}: {atom_type.size} atoms do not match {prefix}.f.out")
        types.append(np.tile(atom_type, n_frames))
    return TestDetails(
        systems=[system for system, _ in e_blocks],
        energy_data_eV=energy[:, 0],
        energy_pred_eV=energy[:, 1],
        natoms=natoms,
        force_data_eV_A=forces[:, :3],
        force_pred_eV_A=forces[:, 3:],
        force_atom_type=np.concatenate(types) if types else None,
    )


def error_metrics(details: TestDetails, type_map: list[str]) -> dict[str, object]:
    """MAE and RMSE of energy per atom (eV/atom) and force components (eV/Å), also per element.

    Definitions follow ``dp test``: the energy error of a frame divided by its atom count,
    force errors over every Cartesian component of every atom.

    Raises
    ------
    ValueError
        If the details carry no reference labels (all ``data_*`` columns 0): such errors would
        measure the predictions, not the model error.
    """
    if not details.has_labels:
        raise ValueError("dp test details: all data_* columns are 0 (no labels); no errors")
    de = (details.energy_pred_eV - details.energy_data_eV) / details.natoms
    df = details.force_pred_eV_A - details.force_data_eV_A
    metrics: dict[str, object] = {
        "n_frames": int(de.size),
        "energy_mae_eV_per_atom": float(np.mean(np.abs(de))),
        "energy_rmse_eV_per_atom": float(np.sqrt(np.mean(de**2))),
        "force_mae_eV_A": float(np.mean(np.abs(df))),
        "force_rmse_eV_A": float(np.sqrt(np.mean(df**2))),
        "force_mae_per_element_eV_A": {},
        "force_rmse_per_element_eV_A": {},
    }
    if details.force_atom_type is not None:
        for t, element in enumerate(type_map):
            rows = df[details.force_atom_type == t]
            if rows.size:
                metrics["force_mae_per_element_eV_A"][element] = float(np.mean(np.abs(rows)))
                metrics["force_rmse_per_element_eV_A"][element] = float(np.sqrt(np.mean(rows**2)))
    return metrics


_WALL_TIME = re.compile(r"DEEPMD INFO\s+wall time: ([0-9.eE+-]+) s")
_SECONDS_PER_BATCH = re.compile(r"average training time: ([0-9.eE+-]+) s/batch")


def read_train_log(path: str | Path) -> dict[str, float | None]:
    """Training wall time (s, summed over restarts) and steps/s (last run) from ``dp train``'s log.

    ``average training time`` excludes DeePMD-kit's first display interval (graph warm-up).
    """
    text = Path(path).read_text(errors="replace") if Path(path).is_file() else ""
    walls = [float(x) for x in _WALL_TIME.findall(text)]
    per_batch = _SECONDS_PER_BATCH.findall(text)
    return {
        "training_walltime_s": sum(walls) if walls else None,
        "steps_per_s": 1.0 / float(per_batch[-1]) if per_batch else None,
    }
