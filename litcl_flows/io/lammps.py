"""Streaming reader and writer of LAMMPS text dumps (``dump atom`` / ``dump custom``).

Written by hand because no installed library streams a dump frame by frame with bounded
memory at the rate a 20,000-atom × 5,500-frame run needs: MDAnalysis and ASE parse atom
lines one at a time in Python, pymatgen's ``LammpsDump`` holds every frame.

Reading costs in proportion to bytes, not frames. The file is read in blocks of about
``_BLOCK_BYTES`` of whole frames; for each block a worker thread splits the frame headers and
parses the atom lines of all its frames of one layout (columns, atom count) in one call of
pandas' C CSV tokenizer (~2× numpy's ``loadtxt``; pandas comes with pymatgen), only the
needed columns, splitting on single spaces when the text allows (LAMMPS' own format, ~1.6×
faster than on any whitespace). The main thread meanwhile cuts parsed blocks into frames with
array operations and hands them on. (pandas 3 gives the GIL back and takes it again so often
that two threads parse no faster than one; the pool overlaps parsing with the main thread and
with the consumer: ~2.5 s instead of 3.4 s to read and unwrap a 0.55 GB dump.) A block pandas
rejects is parsed again frame by frame, each frame by pandas and then by ``loadtxt``, whose
errors (and ``nan`` handling) define the messages; the frames before a bad one are still
yielded first, and block boundaries never change a result.
"""

from __future__ import annotations

import functools
import io
from collections import deque
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from litcl_flows.io.frames import Frame, TrajectoryFormatError, check_cell, check_positions

_FRAME_START = b"ITEM: TIMESTEP"
#: Bytes asked of the file per read.
_CHUNK_BYTES = 1 << 24
#: Text parsed per call: whole frames up to about this size (one frame when larger). 4 MB
#: keeps a call's overhead (~0.2 ms) negligible and the blocks in flight (~0.1 GB, with
#: pandas' buffers) off the paper-scale peak; 16 MB is no faster and adds ~0.15 GB.
_BLOCK_BYTES = 4 << 20
#: Worker threads parsing blocks (0: parse in the calling thread).
_PARSE_THREADS = 2

# Coordinate column sets, best first: (names, scaled, unwrapped).
_COORDINATE_SETS = (
    (("xu", "yu", "zu"), False, True),
    (("xsu", "ysu", "zsu"), True, True),
    (("x", "y", "z"), False, False),
    (("xs", "ys", "zs"), True, False),
)


def _lammps_cells(bounds: np.ndarray, triclinic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Origins (k, 3) and lattice rows (k, 3, 3) from k ``BOX BOUNDS`` blocks, shape (k, 3, 2)
    or (k, 3, 3) with the tilts (LAMMPS Howto triclinic)."""
    lo, hi = bounds[:, :, 0].copy(), bounds[:, :, 1].copy()
    cells = np.zeros((len(bounds), 3, 3))
    if triclinic:
        xy, xz, yz = bounds[:, 0, 2], bounds[:, 1, 2], bounds[:, 2, 2]
        # The dump prints the bounding box of the tilted cell; undo that.
        zero = np.zeros(len(bounds))
        lo[:, 0] -= np.minimum.reduce([zero, xy, xz, xy + xz])
        hi[:, 0] -= np.maximum.reduce([zero, xy, xz, xy + xz])
        lo[:, 1] -= np.minimum(zero, yz)
        hi[:, 1] -= np.maximum(zero, yz)
        cells[:, 1, 0], cells[:, 2, 0], cells[:, 2, 1] = xy, xz, yz
    for axis in range(3):
        cells[:, axis, axis] = hi[:, axis] - lo[:, axis]
    return lo, cells


def _read_blocks(handle: BinaryIO) -> Iterator[tuple[bytearray, int]]:
    """The stream cut into pieces of whole frames, each starting at ``ITEM: TIMESTEP``: the
    piece is ``data[:end]`` of each ``(data, end)``.

    A piece holds the frames that start within its first ``_BLOCK_BYTES`` (one frame when that
    frame is larger). Text before the first frame is skipped; a stream with no frame at all
    is one piece when it is not blank (its header is then reported as malformed). The file is
    read straight into each piece's buffer; only the start of the next piece is copied.
    """
    marker = len(_FRAME_START)
    data, eof = bytearray(), False
    readinto = getattr(handle, "readinto", None)

    def read_to(size: int) -> None:
        """Read until ``data`` holds ``size`` bytes or the stream ends."""
        nonlocal data, eof
        if eof or len(data) >= size:
            return
        buffer = bytearray(size)
        buffer[: len(data)] = data
        have = len(data)
        with memoryview(buffer) as view:
            while have < size:
                with view[have : min(size, have + _CHUNK_BYTES)] as window:
                    if readinto is not None:
                        got = readinto(window) or 0
                    else:
                        chunk = handle.read(len(window))
                        got = len(chunk)
                        window[:got] = chunk
                if not got:
                    eof = True
                    break
                have += got
        del buffer[have:]
        data = buffer

    def find_from(start: int) -> int:
        """First frame start at or after ``start``, reading on until one is found or EOF."""
        at = data.find(_FRAME_START, start)
        while at < 0 and not eof:
            searched = max(start, len(data) - marker + 1)
            read_to(2 * len(data) + marker)  # doubling: a huge frame is read in O(size)
            at = data.find(_FRAME_START, searched)
        return at

    read_to(_BLOCK_BYTES + marker)
    first = find_from(0)
    if first < 0:
        if data.strip():
            yield data, len(data)
        return
    del data[:first]
    while data:
        read_to(_BLOCK_BYTES + marker)
        # The last frame start within the budget ends the piece; else the first one after.
        cut = data.rfind(_FRAME_START, 1, _BLOCK_BYTES + marker)
        if cut < 0:
            cut = find_from(1)
        if cut < 0:
            cut = len(data)
        # The piece is handed over with its end, not copied out; the worker only reads it.
        yield data, cut
        data = data[cut:]


@dataclass(frozen=True)
class _Header:
    """One frame's header items and where its atom lines lie in the block; ``index`` counts
    frames from the start of the block."""

    index: int
    step: int
    n_atoms: int
    bounds: np.ndarray
    triclinic: bool
    columns: tuple[str, ...]
    body_start: int
    body_end: int


class _Fault(Exception):
    """A bad frame found while parsing a block: its index in the block, its step when the
    header could be read, and what is wrong. The assembler, which knows how many frames came
    before the block, turns it into the `TrajectoryFormatError` naming the file and frame."""

    def __init__(self, index: int, step: int | None, text: str) -> None:
        super().__init__(text)
        self.index, self.step, self.text = index, step, text


@dataclass(frozen=True)
class _Run:
    """Consecutive frames of a block with the same columns, atom count and box kind, parsed.

    ``data`` holds the needed numeric columns (``names``) of every frame, shape
    (k, n_atoms, len(names)), in file order; ``elements`` the ``element`` column of the file's
    frame 0 when it has one.
    """

    headers: list[_Header]
    data: np.ndarray
    names: list[str]
    elements: np.ndarray | None


@dataclass(frozen=True)
class _ParsedBlock:
    """A block's parsed runs and its number of frames; or the runs before its first bad frame,
    the fault, and that frame's header when it could be read."""

    runs: list[_Run]
    n_frames: int
    fault: _Fault | None = None
    failed: _Header | None = None


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
        shorter than the types present, non-finite coordinates or a zero-volume box; every
        frame before the bad one is yielded first.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            yield from iter_lammps_dump(handle, type_map, species, name or str(source))
        return
    label = name or getattr(source, "name", "<stream>")
    assemble = _FrameAssembler(label, type_map, species)
    pending: deque[Future[_ParsedBlock]] = deque()
    if _PARSE_THREADS == 0:
        for count, (block, end) in enumerate(_read_blocks(source)):
            yield from assemble(_parse_block(block, end, count == 0))
        return
    pool = ThreadPoolExecutor(_PARSE_THREADS)
    try:
        for count, (block, end) in enumerate(_read_blocks(source)):
            pending.append(pool.submit(_parse_block, block, end, count == 0))
            # Blocks are finished in order; a few stay in flight so the threads keep busy.
            if len(pending) > _PARSE_THREADS:
                yield from assemble(pending.popleft().result())
        while pending:
            yield from assemble(pending.popleft().result())
    finally:
        # A consumer that stops early (or an error) leaves queued blocks unparsed.
        pool.shutdown(wait=True, cancel_futures=True)


def _parse_block(block: bytearray, block_end: int, first_block: bool) -> _ParsedBlock:
    """Headers and atom lines of every frame of ``block[:block_end]`` (in a worker thread).

    Parsing stops at the first bad frame: the frames before it are returned with its fault.
    """
    headers: list[_Header] = []
    start, fault = 0, None
    while start < block_end:
        end = block.find(_FRAME_START, start + len(_FRAME_START), block_end)
        end = block_end if end < 0 else end
        try:
            headers.append(_parse_header(block, start, end, len(headers)))
        except _Fault as err:
            fault = err
            break
        start = end
    runs: list[_Run] = []
    begin = 0
    while begin < len(headers):
        first = headers[begin]
        stop = begin + 1
        while stop < len(headers) and _same_layout(headers[stop], first):
            stop += 1
        run, failure = _parse_run(block, headers[begin:stop], first_block and begin == 0)
        if run is not None:
            runs.append(run)
        if failure is not None:
            return _ParsedBlock(runs, len(headers), failure[1], failure[0])
        begin = stop
    return _ParsedBlock(runs, len(headers), fault)


def _same_layout(a: _Header, b: _Header) -> bool:
    return a.columns == b.columns and a.n_atoms == b.n_atoms and a.triclinic == b.triclinic


def _parse_run(
    block: bytearray, headers: list[_Header], file_start: bool
) -> tuple[_Run | None, tuple[_Header, _Fault] | None]:
    """Parse frames of one layout: all their atom lines in one call when every frame has as
    many lines as its header says, else (or when that call fails) frame by frame up to the
    first bad one. ``file_start``: the first frame is the file's frame 0, whose ``element``
    column (if any) is read too."""
    first = headers[0]
    columns, n_atoms = list(first.columns), first.n_atoms
    names = _needed_columns(columns)
    data = None
    if n_atoms > 0 and _whole_lines(block, headers):
        with memoryview(block) as view:
            joined = b"".join(view[h.body_start : h.body_end] for h in headers)
        try:
            data = _read_table(joined, columns, names)
        except ValueError:  # pandas' ParserError and EmptyDataError are ValueErrors
            data = None
        if data is not None and data.shape[0] != n_atoms * len(headers):
            data = None
    failure = None
    if data is None:
        frames = []
        for header in headers:
            try:
                frames.append(_parse_atoms(block[header.body_start : header.body_end], header))
            except _Fault as err:
                failure = (header, err)
                break
        if not frames:
            return None, failure
        headers = headers[: len(frames)]
        data = np.stack(frames)
    elements = None
    if file_start and "element" in columns:
        body = bytes(block[first.body_start : first.body_end])
        elements = np.loadtxt(
            io.BytesIO(body), usecols=columns.index("element"), dtype=str, ndmin=1
        )
    run = _Run(headers, data.reshape(len(headers), n_atoms, len(names)), names, elements)
    return run, failure


def _whole_lines(block: bytearray, headers: list[_Header]) -> bool:
    """Whether every frame has exactly its header's number of lines, each but the last frame's
    ending in a newline (so that joined frames keep their lines apart)."""
    for i, header in enumerate(headers):
        start, end = header.body_start, header.body_end
        lines = block.count(b"\n", start, end)
        if end > start and block[end - 1] != 0x0A:
            if i < len(headers) - 1:
                return False
            lines += 1
        if lines != header.n_atoms:
            return False
    return True


def _single_spaced(text: bytes | bytearray) -> bool:
    """Whether fields are separated by exactly one space (no tabs, carriage returns, padding or
    blank lines), so pandas can split on ``" "``, ~1.6× faster than on ``\\s+``.

    No two whitespace bytes side by side, none at the start, no tab or carriage return: one
    vectorised pass (~0.5 ms per MB; searching for ``b"  "`` and the like takes ~4×).
    """
    if not text or text[0] <= 0x20 or text[-1] == 0x20 or b"\t" in text or b"\r" in text:
        return False
    blank = np.frombuffer(text, np.uint8) <= 0x20
    return not np.logical_and(blank[1:], blank[:-1]).any()


def _read_table(text: bytes | bytearray, columns: list[str], names: list[str]) -> np.ndarray:
    """The ``names`` columns of whitespace-separated lines as float64, shape (lines, names).

    Raises ``ValueError`` on a malformed line or a non-number (including ``nan``).
    """
    import pandas as pd

    return pd.read_csv(
        io.BytesIO(text),
        sep=" " if _single_spaced(text) else r"\s+",
        header=None,
        names=columns,
        usecols=names,
        dtype=np.float64,
        engine="c",
        na_filter=False,
        # One pass over the block instead of chunks of rows: ~20 % faster, same values.
        low_memory=False,
    )[names].to_numpy()


class _FrameAssembler:
    """Turns parsed blocks, in order, into `Frame`s; checks atom count and ids against the
    first frame and fixes the labels and the kept atoms from it.

    The checks of a frame run in a fixed order (atom count, cell, ids, labels, coordinates),
    and a block's frames are yielded up to the first one that fails, whose error follows.
    """

    def __init__(
        self, label: str, type_map: Sequence[str] | None, species: Collection[str] | None
    ) -> None:
        self.label = label
        self.type_map = type_map
        self.species = species
        self.ids_ref: np.ndarray | None = None
        self.keep: np.ndarray | None = None
        self.symbols: np.ndarray | None = None
        #: Frames of the file before the block being assembled.
        self.offset = 0

    def __call__(self, parsed: _ParsedBlock) -> Iterator[Frame]:
        for run in parsed.runs:
            yield from self._run(run)
        fault = parsed.fault
        if fault is not None:
            if parsed.failed is not None:
                # Header faults of the failing frame come before its atom-line fault.
                self._check_headers([parsed.failed])
            raise self._error(fault.index, fault.step, fault.text) from fault.__cause__
        self.offset += parsed.n_frames

    def _error(self, index: int, step: int | None, text: str) -> TrajectoryFormatError:
        """The error of the block's frame ``index``, naming the file and the frame."""
        where = f"frame {self.offset + index}" + ("" if step is None else f" (step {step})")
        return TrajectoryFormatError(f"{self.label}: {where}: {text}")

    def _check_headers(
        self, headers: list[_Header]
    ) -> tuple[np.ndarray, np.ndarray, int, TrajectoryFormatError | None]:
        """Origins and cells of the frames, the first that fails (atom count or cell), and
        its error; raises when that is the first frame."""
        first = headers[0]
        stop, error = len(headers), None
        if self.ids_ref is not None and first.n_atoms != len(self.ids_ref):
            stop = 0
            error = self._error(
                first.index,
                first.step,
                f"{first.n_atoms} atoms, the first frame had {len(self.ids_ref)}",
            )
        origins, cells = _lammps_cells(np.stack([h.bounds for h in headers]), first.triclinic)
        with np.errstate(all="ignore"):
            good = np.isfinite(cells).all(axis=(1, 2))
            good[good] = np.linalg.det(cells[good]) > 1e-6
        bad = int(np.argmin(good)) if not good.all() else stop
        if bad < stop:
            try:
                check_cell(cells[bad], self.label, self.offset + headers[bad].index)
            except TrajectoryFormatError as err:
                stop, error = bad, err
        if stop == 0 and error is not None:
            raise error
        return origins, cells, stop, error

    def _run(self, run: _Run) -> Iterator[Frame]:
        headers, names = run.headers, run.names
        origins, cells, stop, error = self._check_headers(headers)
        data = run.data[:stop]
        ids = data[:, :, names.index("id")].astype(np.int64)
        unsorted = ~np.all(ids[:, 1:] > ids[:, :-1], axis=1)
        elements = run.elements
        if unsorted.any():
            order = np.argsort(ids[unsorted], axis=1, kind="stable")
            data = data.copy()
            data[unsorted] = np.take_along_axis(data[unsorted], order[:, :, None], axis=1)
            ids[unsorted] = np.take_along_axis(ids[unsorted], order, axis=1)
            if elements is not None and unsorted[0]:
                elements = elements[order[0]]
        if self.ids_ref is None:
            step = headers[0].step
            self.ids_ref = ids[0]
            symbols = _atom_labels(data[0], names, elements, self.type_map, self.label, step)
            self.keep = (
                np.ones(len(symbols), bool)
                if self.species is None
                else np.isin(symbols, list(self.species))
            )
            self.symbols = symbols[self.keep]
        differ = ~np.all(ids == self.ids_ref, axis=1)
        if differ.any():
            stop = int(np.argmax(differ))
            bad = headers[stop]
            error = self._error(bad.index, bad.step, "atom ids differ from the first frame")
            data = data[:stop]
        if stop == 0 and error is not None:
            raise error
        kept = data if self.keep.all() else data[:, self.keep]  # type: ignore[union-attr]
        positions, unwrapped = _positions(kept, names, origins[:stop], cells[:stop])
        if positions is None:
            raise self._error(
                headers[0].index,
                headers[0].step,
                "no coordinate columns (x y z, xu yu zu, xs ys zs or xsu ysu zsu)",
            )
        finite = np.isfinite(positions).all(axis=(1, 2))
        if not finite.all():
            stop = int(np.argmin(finite))
            bad = headers[stop]
            try:
                check_positions(positions[stop], self.label, self.offset + bad.index, bad.step)
            except TrajectoryFormatError as err:
                error = err
        for i in range(stop):
            yield Frame(headers[i].step, cells[i], positions[i], self.symbols, unwrapped)  # type: ignore[arg-type]
        if error is not None:
            raise error


def _parse_header(block: bytearray, start: int, end: int, index: int) -> _Header:
    """The header items of the frame in ``block[start:end]`` and where its atom lines lie."""
    atoms_at = block.find(b"ITEM: ATOMS", start, end)
    if atoms_at < 0:
        raise _Fault(index, None, "no 'ITEM: ATOMS' section (truncated)")
    line_end = block.find(b"\n", atoms_at, end)
    if line_end < 0:
        raise _Fault(index, None, "truncated 'ITEM: ATOMS' line")
    columns = _columns(bytes(block[atoms_at:line_end]))
    lines = block[start:atoms_at].decode().splitlines()
    try:
        if (
            len(lines) == 8
            and lines[0] == "ITEM: TIMESTEP"
            and lines[2] == "ITEM: NUMBER OF ATOMS"
            and lines[4].startswith("ITEM: BOX")
            and not any(lines[i].startswith("ITEM:") for i in (1, 3, 5, 6, 7))
        ):
            # The usual layout, read without the general loop.
            items = {
                "TIMESTEP": ("", lines[1:2]),
                "NUMBER OF ATOMS": ("", lines[3:4]),
                "BOX": (lines[4][5:].strip(), lines[5:8]),
            }
        else:
            items = _header_items(lines)
        step = int(items["TIMESTEP"][1][0])
        n_atoms = int(items["NUMBER OF ATOMS"][1][0])
        box_key, box_lines = items["BOX"]
        bounds = np.array([[float(v) for v in line.split()] for line in box_lines[:3]])
        triclinic = "xy" in box_key.split()
        if bounds.shape != ((3, 3) if triclinic else (3, 2)):
            raise ValueError("BOX BOUNDS has the wrong shape")
    except (KeyError, IndexError, ValueError) as err:
        raise _Fault(index, None, f"malformed header ({err})") from err
    if "id" not in columns:
        raise _Fault(index, None, "the dump has no 'id' column")
    return _Header(index, step, n_atoms, bounds, triclinic, columns, line_end + 1, end)


def _header_items(lines: list[str]) -> dict[str, tuple[str, list[str]]]:
    """Header items by name (``BOX BOUNDS …`` under ``BOX``): the full key and value lines."""
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
    return items


@functools.lru_cache(maxsize=64)
def _columns(atoms_line: bytes) -> tuple[str, ...]:
    """Column names of an ``ITEM: ATOMS …`` line (the same line in every frame of a dump)."""
    return tuple(atoms_line.decode().split()[2:])


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


def _parse_atoms(body: bytearray, header: _Header) -> np.ndarray:
    """The needed numeric columns of one frame as float64, shape (n_atoms, names)."""
    columns = list(header.columns)
    names = _needed_columns(columns)
    try:
        data = _read_table(body, columns, names)
    except ValueError:
        # Malformed line or nan/inf: numpy's strict parser decides, as it always did.
        numeric = [columns.index(c) for c in names]
        try:
            data = np.loadtxt(io.BytesIO(body), usecols=numeric, ndmin=2, dtype=np.float64)
        except ValueError as err:
            raise _Fault(header.index, header.step, f"unreadable atom line ({err})") from err
    if data.shape[0] != header.n_atoms:
        raise _Fault(
            header.index,
            header.step,
            f"{data.shape[0]} atom lines, header says {header.n_atoms} (truncated frame?)",
        )
    return data


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
    data: np.ndarray, names: list[str], origins: np.ndarray, cells: np.ndarray
) -> tuple[np.ndarray | None, bool]:
    """Cartesian positions in Å of k frames, shape (k, n, 3), and whether they are unwrapped;
    None without coordinate columns."""
    for coordinates, scaled, unwrapped in _COORDINATE_SETS:
        if all(n in names for n in coordinates):
            xyz = data[:, :, [names.index(n) for n in coordinates]]
            images = all(n in names for n in ("ix", "iy", "iz"))
            if images and not unwrapped:
                flags = data[:, :, [names.index(n) for n in ("ix", "iy", "iz")]]
                xyz = xyz + (flags if scaled else flags @ cells)
                unwrapped = True
            return (origins[:, None, :] + xyz @ cells if scaled else xyz), unwrapped
    return None, False


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
