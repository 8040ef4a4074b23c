"""Streaming readers of VASP MD output: ``XDATCAR`` and ``vasprun.xml``.

Written by hand because pymatgen's ``Xdatcar`` and ``Vasprun`` build every ionic step as a
``Structure`` (and ``Vasprun`` parses eigenvalues, DOS, …) before returning; these readers keep
one frame at a time. VASP writes fractional coordinates wrapped into the cell.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np

from litcl_flows.io.frames import Frame, TrajectoryFormatError, check_cell, check_positions


def iter_xdatcar(path: str | Path, species: Collection[str] | None = None) -> Iterator[Frame]:
    """Yield the frames of an ``XDATCAR`` (fixed or variable cell, VASP 5+ with symbols).

    ``Frame.step`` is the number after ``configuration=`` (the ionic step).
    """
    label = str(path)
    with open(path) as handle:
        cell = symbols = keep = None
        index = 0
        while True:
            line = handle.readline()
            if not line:
                return
            if not line.strip():
                continue
            if "configuration" not in line.lower():
                # A cell header: first frame, or every frame of a variable-cell run.
                cell, symbols = _xdatcar_header(line, handle, label, index)
                keep = (
                    np.ones(len(symbols), bool)
                    if species is None
                    else np.isin(symbols, list(species))
                )
                continue
            if cell is None or symbols is None or keep is None:
                raise TrajectoryFormatError(f"{label}: frame {index}: configuration before header")
            try:
                step = int(line.split("=")[-1])
            except ValueError as err:
                raise TrajectoryFormatError(f"{label}: frame {index}: bad line {line!r}") from err
            rows = [handle.readline() for _ in range(len(symbols))]
            try:
                frac = np.array([[float(v) for v in r.split()[:3]] for r in rows])
                if frac.shape != (len(symbols), 3):
                    raise ValueError(f"{len(rows)} coordinate lines")
            except ValueError as err:
                raise TrajectoryFormatError(
                    f"{label}: frame {index} (step {step}): truncated or bad coordinates ({err})"
                ) from err
            positions = frac[keep] @ cell
            check_positions(positions, label, index, step)
            yield Frame(step, cell, positions, symbols[keep], False)
            index += 1


def _xdatcar_header(
    first: str, handle: object, label: str, index: int
) -> tuple[np.ndarray, np.ndarray]:
    """Read the 7-line cell header that starts with the comment line ``first``."""
    try:
        scale = float(handle.readline())  # type: ignore[attr-defined]
        cell = np.array([[float(v) for v in handle.readline().split()] for _ in range(3)])  # type: ignore[attr-defined]
        names = handle.readline().split()  # type: ignore[attr-defined]
        counts = [int(v) for v in handle.readline().split()]  # type: ignore[attr-defined]
        if cell.shape != (3, 3) or len(names) != len(counts):
            raise ValueError("cell or species lines malformed")
    except ValueError as err:
        raise TrajectoryFormatError(f"{label}: frame {index}: bad header ({err})") from err
    cell = cell * scale if scale > 0 else cell * (-scale / abs(np.linalg.det(cell))) ** (1 / 3)
    check_cell(cell, label, index)
    return cell, np.repeat(np.array(names, dtype=str), counts)


def iter_vasprun(path: str | Path, species: Collection[str] | None = None) -> Iterator[Frame]:
    """Yield the ionic steps of an MD ``vasprun.xml`` one at a time (``xml`` iterparse).

    ``Frame.step`` is the 0-based index of the ``<calculation>`` block.
    """
    label = str(path)
    symbols = keep = None
    index = 0
    try:
        for _, elem in ET.iterparse(path, events=("end",)):
            if elem.tag == "atominfo":
                names = [
                    rc.find("c").text.strip()  # type: ignore[union-attr]
                    for rc in elem.iterfind("array[@name='atoms']/set/rc")
                ]
                symbols = np.array(names, dtype=str)
                keep = (
                    np.ones(len(names), bool) if species is None else np.isin(names, list(species))
                )
            elif elem.tag == "calculation":
                structure = elem.find("structure")
                if symbols is None or keep is None or structure is None:
                    raise TrajectoryFormatError(
                        f"{label}: frame {index}: no atominfo or structure before calculation"
                    )
                cell = _varray(structure.find("crystal/varray[@name='basis']"), label, index)
                frac = _varray(structure.find("varray[@name='positions']"), label, index)
                check_cell(cell, label, index)
                if frac.shape != (len(symbols), 3):
                    raise TrajectoryFormatError(
                        f"{label}: frame {index}: {len(frac)} positions for {len(symbols)} atoms"
                    )
                positions = frac[keep] @ cell
                check_positions(positions, label, index, index)
                yield Frame(index, cell, positions, symbols[keep], False)
                index += 1
                elem.clear()
    except ET.ParseError as err:
        raise TrajectoryFormatError(f"{label}: frame {index}: malformed XML ({err})") from err


def _varray(node: ET.Element | None, label: str, index: int) -> np.ndarray:
    if node is None:
        raise TrajectoryFormatError(f"{label}: frame {index}: missing basis or positions")
    return np.array([[float(v) for v in (v.text or "").split()] for v in node.iterfind("v")])
