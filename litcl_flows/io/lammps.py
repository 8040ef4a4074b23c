"""Streaming reader and writer of LAMMPS text dumps (``dump atom`` / ``dump custom``).

Written by hand because no installed library streams a dump frame by frame with bounded
memory at the rate a 20,000-atom × 5,500-frame run needs: MDAnalysis and ASE parse atom
lines one at a time in Python, pymatgen's ``LammpsDump`` holds every frame. Here each frame's
atom block is cut out of a large byte buffer and only the needed columns are parsed by
pandas' C CSV tokenizer (~2× numpy's ``loadtxt``; pandas comes with pymatgen), in a small
thread pool (the tokenizer releases the GIL) while the main thread splits the next frames.
A frame pandas rejects is parsed again by ``loadtxt``, whose errors (and ``nan`` handling)
define the messages.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from litcl_flows.io.frames import Frame, TrajectoryFormatError, check_cell, check_positions

_FRAME_START = b"ITEM: TIMESTEP"
_CHUNK_BYTES = 1 << 24
#: Frames parsed concurrently: two threads keep both cores of a small node busy.
_PARSE_THREADS = 2

# Coordinate column sets, best first: (names, scaled, unwrapped).
_COORDINATE_SETS = (
    (("xu", "yu", "zu"), False, True),
    (("xsu", "ysu", "zsu"), True, True),
    (("x", "y", "z"), False, False),
    (("xs", "ys", "zs"), True, False),
)


def _lammps_cell(bounds: np.ndarray, triclinic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Origin and lattice rows from the ``BOX BOUNDS`` block (LAMMPS Howto triclinic)."""
    lo, hi = bounds[:, 0].copy(), bounds[:, 1].copy()
    xy = xz = yz = 0.0
    if triclinic:
        xy, xz, yz = bounds[:, 2]
        # The dump prints the bounding box of the tilted cell; undo that.
        lo[0] -= min(0.0, xy, xz, xy + xz)
        hi[0] -= max(0.0, xy, xz, xy + xz)
        lo[1] -= min(0.0, yz)
        hi[1] -= max(0.0, yz)
    cell = np.array([[hi[0] - lo[0], 0.0, 0.0], [xy, hi[1] - lo[1], 0.0], [xz, yz, hi[2] - lo[2]]])
    return lo, cell


class _FrameSplitter:
    """Cuts a binary stream into frames at ``ITEM: TIMESTEP`` without iterating over lines."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._buffer = b""
        # Read position in the buffer: frames are sliced out from here instead of cutting the
        # rest of a 16 MB buffer after every frame.
        self._pos = 0
        self._eof = False

    def __iter__(self) -> Iterator[bytes]:
        while True:
            start = self._buffer.find(_FRAME_START, self._pos)
            if start < 0:
                if not self._fill():
                    rest = self._buffer[self._pos :]
                    if rest.strip():
                        yield rest
                    return
                continue
            self._pos = start
            end = self._buffer.find(_FRAME_START, start + len(_FRAME_START))
            while end < 0 and self._fill():
                start = self._pos
                end = self._buffer.find(_FRAME_START, start + len(_FRAME_START))
            if end < 0:
                end = len(self._buffer)
            frame, self._pos = self._buffer[start:end], end
            yield frame
            if self._pos >= len(self._buffer) and self._eof:
                return

    def _fill(self) -> bool:
        """Append the next chunk, dropping the consumed part (positions restart at 0)."""
        if self._eof:
            return False
        chunk = self._handle.read(_CHUNK_BYTES)
        if not chunk:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True


def iter_lammps_dump(
    source: str | Path | BinaryIO,
    type_map: Sequence[str] | None = None,
    species: Collection[str] | None = None,
    name: str | None = None,
) -> Iterator[Frame]:
    """Yield the frames of a LAMMPS text dump one at a time.

    Parameters
    ----------
    source
        Path of the dump, or a binary file object (e.g. wrapped by a progress bar).
    type_map
        Element names of LAMMPS types 1, 2, … in order; ignored when the dump has an
        ``element`` column. Without either, atoms are labelled by their type number.
    species
        Keep only atoms of these elements (all when None).
    name
        File name used in error messages (defaults to the path).

    Yields
    ------
    Frame
        Atoms sorted by id, positions in Å. Coordinates come from ``xu yu zu`` or
        ``xsu ysu zsu`` (unwrapped), else ``x y z`` / ``xs ys zs`` plus ``ix iy iz`` image flags
        when present (unwrapped), else wrapped.

    Raises
    ------
    TrajectoryFormatError
        On a truncated frame, a changed atom count or set of ids, missing columns, a type map
        shorter than the types present, non-finite coordinates or a zero-volume box.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield from iter_lammps_dump(handle, type_map, species, name or str(source))
        return
    label = name or getattr(source, "name", "<stream>")
    assemble = _FrameAssembler(label, type_map, species)
    pending: deque[tuple[int, int, int, np.ndarray, bool, Future]] = deque()
    with ThreadPoolExecutor(_PARSE_THREADS) as pool:
        for index, block in enumerate(_FrameSplitter(source)):
            step, n_atoms, bounds, triclinic, columns, body = _parse_header(block, label, index)
            # Only frame 0's element column is read (labels are fixed by the first frame).
            future = pool.submit(
                _parse_atoms, body, columns, n_atoms, label, index, step, index == 0
            )
            pending.append((index, step, n_atoms, bounds, triclinic, future))
            # Frames are finished in order; a few stay in flight so the threads keep busy.
            if len(pending) > _PARSE_THREADS:
                yield assemble(*pending.popleft())
        while pending:
            yield assemble(*pending.popleft())


class _FrameAssembler:
    """Turns parsed frames, in order, into `Frame`s; checks atom count and ids against the
    first frame and fixes the labels and the kept atoms from it."""

    def __init__(
        self, label: str, type_map: Sequence[str] | None, species: Collection[str] | None
    ) -> None:
        self.label = label
        self.type_map = type_map
        self.species = species
        self.ids_ref: np.ndarray | None = None
        self.keep: np.ndarray | None = None
        self.symbols: np.ndarray | None = None

    def __call__(
        self,
        index: int,
        step: int,
        n_atoms: int,
        bounds: np.ndarray,
        triclinic: bool,
        parsed: Future,
    ) -> Frame:
        label = self.label
        if self.ids_ref is not None and n_atoms != len(self.ids_ref):
            raise TrajectoryFormatError(
                f"{label}: frame {index} (step {step}): {n_atoms} atoms, "
                f"the first frame had {len(self.ids_ref)}"
            )
        origin, cell = _lammps_cell(bounds, triclinic)
        check_cell(cell, label, index)
        data, names, elements = parsed.result()
        ids = data[:, names.index("id")].astype(np.int64)
        order = None if np.all(ids[1:] > ids[:-1]) else np.argsort(ids, kind="stable")
        if order is not None:
            data, ids = data[order], ids[order]
            elements = None if elements is None else elements[order]
        if self.ids_ref is None:
            self.ids_ref = ids
            labels = _atom_labels(data, names, elements, self.type_map, label, step)
            self.keep = (
                np.ones(n_atoms, bool)
                if self.species is None
                else np.isin(labels, list(self.species))
            )
            self.symbols = labels[self.keep]
        elif not np.array_equal(ids, self.ids_ref):
            raise TrajectoryFormatError(
                f"{label}: frame {index} (step {step}): atom ids differ from the first frame"
            )
        positions, unwrapped = _positions(data[self.keep], names, origin, cell, label, index, step)
        check_positions(positions, label, index, step)
        return Frame(step, cell, positions, self.symbols, unwrapped)  # type: ignore[arg-type]


def _parse_header(
    block: bytes, label: str, index: int
) -> tuple[int, int, np.ndarray, bool, list[str], bytes]:
    """Split one frame into its header items and the bytes of its atom lines."""
    atoms_at = block.find(b"ITEM: ATOMS")
    if atoms_at < 0:
        raise TrajectoryFormatError(f"{label}: frame {index}: no 'ITEM: ATOMS' section (truncated)")
    line_end = block.find(b"\n", atoms_at)
    if line_end < 0:
        raise TrajectoryFormatError(f"{label}: frame {index}: truncated 'ITEM: ATOMS' line")
    columns = block[atoms_at:line_end].decode().split()[2:]
    lines = block[:atoms_at].decode().splitlines()
    try:
        items = {}
        i = 0
        while i < len(lines):
            if lines[i].startswith("ITEM:"):
                key = lines[i][5:].strip()
                i += 1
                values = []
                while i < len(lines) and not lines[i].startswith("ITEM:"):
                    values.append(lines[i])
                    i += 1
                items[key.split()[0] if key.startswith("BOX") else key] = (key, values)
            else:
                i += 1
        step = int(items["TIMESTEP"][1][0])
        n_atoms = int(items["NUMBER OF ATOMS"][1][0])
        box_key, box_lines = items["BOX"]
        bounds = np.array([[float(v) for v in line.split()] for line in box_lines[:3]])
        triclinic = "xy" in box_key.split()
        if bounds.shape != ((3, 3) if triclinic else (3, 2)):
            raise ValueError("BOX BOUNDS has the wrong shape")
    except (KeyError, IndexError, ValueError) as err:
        raise TrajectoryFormatError(f"{label}: frame {index}: malformed header ({err})") from err
    if "id" not in columns:
        raise TrajectoryFormatError(f"{label}: frame {index}: the dump has no 'id' column")
    return step, n_atoms, bounds, triclinic, columns, block[line_end + 1 :]


def _needed_columns(columns: list[str]) -> list[str]:
    """The columns a frame is reduced to: id, type, the best coordinate set, image flags."""
    names = [c for c in ("id", "type") if c in columns]
    for coordinates, _, unwrapped in _COORDINATE_SETS:
        if all(c in columns for c in coordinates):
            names += coordinates
            if not unwrapped and all(c in columns for c in ("ix", "iy", "iz")):
                names += ["ix", "iy", "iz"]
            break
    return names


def _parse_atoms(
    body: bytes,
    columns: list[str],
    n_atoms: int,
    label: str,
    index: int,
    step: int,
    want_elements: bool,
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """The needed numeric columns as float64, their names, and the ``element`` column if asked.

    Runs in a worker thread; errors carry the file and frame.
    """
    import pandas as pd

    names = _needed_columns(columns)
    where = f"{label}: frame {index} (step {step})"
    try:
        data = pd.read_csv(
            io.BytesIO(body),
            sep=r"\s+",
            header=None,
            names=columns,
            usecols=names,
            dtype=np.float64,
            engine="c",
            na_filter=False,
        )[names].to_numpy()
    except ValueError:  # pandas' ParserError and EmptyDataError are ValueErrors
        # Malformed line or nan/inf: numpy's strict parser decides, as it always did.
        numeric = [columns.index(c) for c in names]
        try:
            data = np.loadtxt(io.BytesIO(body), usecols=numeric, ndmin=2, dtype=np.float64)
        except ValueError as err:
            raise TrajectoryFormatError(f"{where}: unreadable atom line ({err})") from err
    if data.shape[0] != n_atoms:
        raise TrajectoryFormatError(
            f"{where}: {data.shape[0]} atom lines, header says {n_atoms} (truncated frame?)"
        )
    elements = None
    if want_elements and "element" in columns:
        elements = np.loadtxt(
            io.BytesIO(body), usecols=columns.index("element"), dtype=str, ndmin=1
        )
    return data, names, elements


def _atom_labels(
    data: np.ndarray,
    names: list[str],
    elements: np.ndarray | None,
    type_map: Sequence[str] | None,
    label: str,
    step: int,
) -> np.ndarray:
    """Element of every atom from the ``element`` column, else from ``type`` and the type map."""
    if elements is not None:
        return elements.astype(str)
    if "type" not in names:
        raise TrajectoryFormatError(
            f"{label}: frame 0 (step {step}): no 'type' or 'element' column"
        )
    types = data[:, names.index("type")].astype(np.int64)
    if type_map is None:
        return types.astype(str)
    if types.min() < 1 or types.max() > len(type_map):
        raise TrajectoryFormatError(
            f"{label}: frame 0 (step {step}): types {types.min()}..{types.max()} present, "
            f"type map {','.join(type_map)} names only {len(type_map)}"
        )
    return np.asarray(type_map, dtype=str)[types - 1]


def _positions(
    data: np.ndarray,
    names: list[str],
    origin: np.ndarray,
    cell: np.ndarray,
    label: str,
    index: int,
    step: int,
) -> tuple[np.ndarray, bool]:
    """Cartesian positions in Å and whether they are unwrapped."""
    for coordinates, scaled, unwrapped in _COORDINATE_SETS:
        if all(n in names for n in coordinates):
            xyz = data[:, [names.index(n) for n in coordinates]]
            images = all(n in names for n in ("ix", "iy", "iz"))
            if images and not unwrapped:
                flags = data[:, [names.index(n) for n in ("ix", "iy", "iz")]]
                xyz = xyz + (flags if scaled else flags @ cell)
                unwrapped = True
            return (origin + xyz @ cell if scaled else xyz), unwrapped
    raise TrajectoryFormatError(
        f"{label}: frame {index} (step {step}): no coordinate columns "
        "(x y z, xu yu zu, xs ys zs or xsu ysu zsu)"
    )


def write_lammps_dump(
    handle: io.TextIOBase,
    step: int,
    cell_A: np.ndarray,
    positions_A: np.ndarray,
    types: np.ndarray,
    images: np.ndarray | None = None,
) -> None:
    """Append one orthogonal-or-triclinic frame (``id type x y z [ix iy iz]``) to a text dump.

    Positions are written as given (wrap them first if the dump should look wrapped); the box
    origin is 0. Used by the tests and the benchmark to produce dumps with known content.
    """
    a, b, c = cell_A
    xy, xz, yz = b[0], c[0], c[1]
    triclinic = bool(xy or xz or yz)
    lo_x, hi_x = min(0.0, xy, xz, xy + xz), a[0] + max(0.0, xy, xz, xy + xz)
    lo_y, hi_y = min(0.0, yz), b[1] + max(0.0, yz)
    n = len(positions_A)
    head = [f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n{n}\n"]
    if triclinic:
        head.append(
            f"ITEM: BOX BOUNDS xy xz yz pp pp pp\n{lo_x:.10g} {hi_x:.10g} {xy:.10g}\n"
            f"{lo_y:.10g} {hi_y:.10g} {xz:.10g}\n0 {c[2]:.10g} {yz:.10g}\n"
        )
    else:
        head.append(f"ITEM: BOX BOUNDS pp pp pp\n0 {a[0]:.10g}\n0 {b[1]:.10g}\n0 {c[2]:.10g}\n")
    ids = np.arange(1, n + 1)
    if images is None:
        head.append("ITEM: ATOMS id type x y z\n")
        rows = np.column_stack([ids, types, positions_A]).tolist()
        line = "%d %d %.6f %.6f %.6f\n"
    else:
        head.append("ITEM: ATOMS id type x y z ix iy iz\n")
        rows = np.column_stack([ids, types, positions_A, images]).tolist()
        line = "%d %d %.6f %.6f %.6f %d %d %d\n"
    handle.write("".join(head))
    # One %-format over the whole frame: ~10× faster than numpy.savetxt.
    handle.write((line * n) % tuple(v for row in rows for v in row))


def read_host_com(paths: Sequence[str | Path]) -> dict[int, np.ndarray]:
    """Step → host centre of mass (Å) from the ``fix ave/time`` files of a run's chunks.

    Each file holds ``step x y z`` rows under ``#`` comment lines (the LAMMPS input of
    :mod:`litcl_flows.engines.lammps.inputs`). A restarted chunk writes its first step again;
    the earlier chunk's row wins, as in :func:`litcl_flows.io.chain_frames`.

    Raises
    ------
    TrajectoryFormatError
        A file that is not four numeric columns, or holds non-finite values.
    """
    com: dict[int, np.ndarray] = {}
    for path in paths:
        try:
            rows = np.loadtxt(path, comments="#", ndmin=2)
        except ValueError as error:
            raise TrajectoryFormatError(f"{path}: not a step x y z table ({error})") from None
        if rows.size and (rows.shape[1] != 4 or not np.all(np.isfinite(rows))):
            raise TrajectoryFormatError(
                f"{path}: expected finite 'step x y z' rows, got {rows.shape[1]} columns"
            )
        for step, *xyz in rows:
            com.setdefault(int(step), np.array(xyz))
    return com
