"""LAMMPS dump reader: real dumps from third-party repositories, round trips, bad input."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from litcl_flows.io import TrajectoryFormatError, iter_frames, iter_lammps_dump, write_lammps_dump


def test_almg_scaled_unwrapped_npt_dump(third_party_dir: Path) -> None:
    path = third_party_dir / "lammps/AlMg_npt500K_xsu_pyiron_lammps/dump.out"
    frames = list(iter_lammps_dump(path, type_map=["Al"]))
    assert len(frames) == 11
    assert [f.step for f in frames] == list(range(0, 1001, 100))
    assert all(f.unwrapped for f in frames)
    assert set(frames[0].symbols) == {"Al"}
    # README: orthogonal box changing under NPT; the last frame spans -0.02844 … 8.12844 Å.
    assert np.allclose(frames[0].cell_A, np.diag([8.1, 8.1, 8.1]))
    assert frames[-1].cell_A[0, 0] == pytest.approx(8.12844 + 0.02844, abs=1e-4)
    assert np.count_nonzero(frames[-1].cell_A - np.diag(np.diag(frames[-1].cell_A))) == 0
    # Atom 2 of frame 0 is at fractional (0, 0.25, 0.25) of the 8.1 Å fcc cell.
    assert np.allclose(frames[0].positions_A[1], [0.0, 2.025, 2.025])
    # x = xlo + xsu * (xhi - xlo) for the last frame, checked on the raw text of atom 1.
    text = path.read_text().split("ITEM: TIMESTEP")[-1].splitlines()
    xlo, xhi = map(float, text[5].split())
    xsu = float(text[9].split()[2])
    assert frames[-1].positions_A[0, 0] == pytest.approx(xlo + xsu * (xhi - xlo), rel=1e-12)


def test_bead_chain_unsorted_ids_are_sorted(third_party_dir: Path) -> None:
    path = third_party_dir / "lammps/bead_chain_xu_mdanalysis/chain_dump_1.lammpstrj"
    frames = list(iter_lammps_dump(path))
    assert len(frames) == 6
    assert [f.step for f in frames] == [0, 1, 2, 3, 4, 5]
    assert all(f.positions_A.shape == (22, 3) for f in frames)
    assert np.allclose(frames[0].cell_A, 10 * np.eye(3))
    # Line "4 0 2 0 5.88374 3.41791 0.249243" is atom id 4 → row 3 after sorting by id.
    assert np.allclose(frames[0].positions_A[3], [5.88374, 3.41791, 0.249243])
    assert sorted(frames[0].symbols.tolist()).count("1") == 2
    # MDAnalysis, the repository these files come from, reads the same coordinates.
    mda = pytest.importorskip("MDAnalysis")
    universe = mda.Universe(
        str(path), format="LAMMPSDUMP", lammps_coordinate_convention="unwrapped"
    )
    for frame, ts in zip(frames, universe.trajectory, strict=True):
        order = np.argsort(universe.atoms.ids)
        assert np.allclose(frame.positions_A, ts.positions[order], atol=1e-4)


def test_water_dump_stops_at_first_nan_frame(third_party_dir: Path) -> None:
    path = third_party_dir / "deepmd/water_train_and_lammps_hodakamori/water_deepmd.lammpstrj"
    frames = []
    with pytest.raises(TrajectoryFormatError, match=r"frame 33 \(step 3300\).*non-finite"):
        frames.extend(iter_lammps_dump(path, type_map=["O", "H"], species={"O"}))
    # README: frames 0–3200 (33 frames) are finite; 64 O of 192 atoms kept.
    assert len(frames) == 33
    assert frames[0].positions_A.shape == (64, 3)
    assert np.allclose(np.diag(frames[0].cell_A), [12.464485979498011] * 2 + [12.443717891802279])


def _triclinic_dump(images: bool, element: bool) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    cell = np.array([[9.0, 0.0, 0.0], [-1.5, 8.0, 0.0], [2.0, 1.0, 7.0]])
    frac = rng.random((3, 6, 3)) + rng.integers(-2, 3, (3, 6, 3))
    buffer = io.StringIO()
    for step, f in enumerate(frac):
        wrapped = np.mod(f, 1.0)
        write_lammps_dump(
            buffer,
            step * 10,
            cell,
            wrapped @ cell,
            np.array([1, 2, 1, 2, 1, 2]),
            images=np.floor(f).astype(int) if images else None,
        )
    text = buffer.getvalue()
    if element:
        text = text.replace("id type x y z", "id type element x y z")
        lines = text.splitlines()
        for i, line in enumerate(lines):
            parts = line.split()
            if len(parts) >= 5 and not line.startswith("ITEM") and parts[1] in "12":
                lines[i] = " ".join(
                    [parts[0], parts[1], "Li" if parts[1] == "1" else "Cl", *parts[2:]]
                )
        text = "\n".join(lines) + "\n"
    return text, frac @ cell, cell


@pytest.mark.parametrize("element", [False, True])
def test_triclinic_image_flags_round_trip(element: bool) -> None:
    text, truth, cell = _triclinic_dump(images=True, element=element)
    frames = list(
        iter_lammps_dump(io.BytesIO(text.encode()), type_map=None if element else ["Li", "Cl"])
    )
    assert len(frames) == 3
    assert frames[0].symbols.tolist() == ["Li", "Cl"] * 3
    assert np.allclose(frames[1].cell_A, cell, atol=1e-9)
    for frame, expected in zip(frames, truth, strict=True):
        assert frame.unwrapped
        assert np.allclose(frame.positions_A, expected, atol=2e-5)


def test_species_filter_and_shuffled_atoms() -> None:
    text, truth, _ = _triclinic_dump(images=True, element=False)
    header, _, body = text.partition("ITEM: ATOMS id type x y z ix iy iz\n")
    first_frame_lines = body.split("ITEM: TIMESTEP")[0].splitlines()
    shuffled = (
        header + "ITEM: ATOMS id type x y z ix iy iz\n" + "\n".join(first_frame_lines[::-1]) + "\n"
    )
    (frame,) = iter_lammps_dump(io.BytesIO(shuffled.encode()), ["Li", "Cl"], species={"Cl"})
    assert frame.symbols.tolist() == ["Cl"] * 3
    assert np.allclose(frame.positions_A, truth[0][1::2], atol=2e-5)


BASE = """ITEM: TIMESTEP
{step}
ITEM: NUMBER OF ATOMS
{n}
ITEM: BOX BOUNDS pp pp pp
0 {L}
0 5
0 5
ITEM: ATOMS id type x y z
"""


def _frame(step: int, n: int = 2, length: float = 5.0, types: tuple[int, ...] = (1, 2)) -> str:
    atoms = "".join(f"{i + 1} {types[i % len(types)]} 1.0 2.0 3.0\n" for i in range(n))
    return BASE.format(step=step, n=n, L=length) + atoms


@pytest.mark.parametrize(
    ("text", "type_map", "message"),
    [
        (_frame(0) + _frame(10)[:-16], ["Li", "Cl"], r"frame 1 \(step 10\): 1 atom lines"),
        (_frame(0) + _frame(10)[:-9], ["Li", "Cl"], r"dump\.txt: frame 1 \(step 10\): unreadable"),
        (_frame(0) + _frame(10, n=3), ["Li", "Cl"], r"dump\.txt: frame 1 \(step 10\): 3 atoms"),
        (
            _frame(0, types=(1, 3)),
            ["Li", "Cl"],
            r"dump\.txt: frame 0 .*type map Li,Cl names only 2",
        ),
        (_frame(0) + _frame(10, length=0.0), ["Li", "Cl"], r"dump\.txt: frame 1: cell volume is 0"),
        (
            _frame(0) + "ITEM: TIMESTEP\n20\nITEM: NUMB",
            ["Li", "Cl"],
            r"dump\.txt: frame 1: no 'ITEM: ATOMS'",
        ),
    ],
    ids=[
        "truncated-frame",
        "truncated-line",
        "atom-count",
        "short-type-map",
        "zero-volume",
        "truncated-header",
    ],
)
def test_bad_dumps_name_file_and_frame(
    tmp_path: Path, text: str, type_map: list[str], message: str
) -> None:
    path = tmp_path / "dump.txt"
    path.write_text(text)
    with pytest.raises(TrajectoryFormatError, match=message) as info:
        list(iter_lammps_dump(path, type_map))
    assert "\n" not in str(info.value)


def test_chained_restart_dumps_drop_the_repeated_frame(third_party_dir: Path) -> None:
    folder = third_party_dir / "lammps/bead_chain_xu_mdanalysis"
    first, second = folder / "chain_dump_1.lammpstrj", folder / "chain_dump_2.lammpstrj"
    frames = list(iter_frames([first, second]))
    # README: steps 0–5 and 5–10, step 5 in both with identical coordinates → 11 frames.
    assert [f.step for f in frames] == list(range(11))
    singles = list(iter_lammps_dump(first)) + list(iter_lammps_dump(second))[1:]
    for chained, single in zip(frames, singles, strict=True):
        assert np.array_equal(chained.positions_A, single.positions_A)
    assert np.array_equal(next(iter_lammps_dump(second)).positions_A, frames[5].positions_A)


def test_chained_dumps_with_other_atoms_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a.dump", tmp_path / "b.dump"
    first.write_text(_frame(0) + _frame(10))
    second.write_text(_frame(10, types=(2, 1)) + _frame(20, types=(2, 1)))
    with pytest.raises(TrajectoryFormatError, match=r"b\.dump: frame 1 \(step 20\): 2 atoms"):
        list(iter_frames([first, second], type_map=["Li", "Cl"]))
    # Same atoms: the duplicate step 10 is dropped, 10 and 20 follow 0.
    second.write_text(_frame(10) + _frame(20))
    assert [f.step for f in iter_frames([first, second], type_map=["Li", "Cl"])] == [0, 10, 20]


def test_frames_split_across_read_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from litcl_flows.io import lammps

    text, truth, _ = _triclinic_dump(images=True, element=False)
    whole = list(iter_lammps_dump(io.BytesIO(text.encode()), ["Li", "Cl"]))
    # Chunks shorter than a frame and than the "ITEM: TIMESTEP" marker itself.
    for chunk in (7, 100, 333):
        monkeypatch.setattr(lammps, "_CHUNK_BYTES", chunk)
        frames = list(iter_lammps_dump(io.BytesIO(text.encode()), ["Li", "Cl"]))
        assert [f.step for f in frames] == [0, 10, 20]
        for frame, expected, reference in zip(frames, truth, whole, strict=True):
            assert np.allclose(frame.positions_A, expected, atol=2e-5)
            assert np.array_equal(frame.positions_A, reference.positions_A)


def _varied_dump() -> tuple[str, np.ndarray]:
    """Seven triclinic frames with image flags and changing cells: atoms shuffled in frames 2
    and 5, a trailing space on the lines of frame 3 (older LAMMPS), frame 4 padded with runs
    of spaces, frame 6 with its columns in another order. Returns the text and the unwrapped
    positions."""
    rng = np.random.default_rng(11)
    base = np.array([[9.0, 0.0, 0.0], [-1.5, 8.0, 0.0], [2.0, 1.0, 7.0]])
    parts, truth = [], []
    for step in range(7):
        cell = base * (1 + 0.01 * step)
        frac = rng.random((6, 3)) + rng.integers(-2, 3, (6, 3))
        truth.append(frac @ cell)
        buffer = io.StringIO()
        write_lammps_dump(
            buffer, 10 * step, cell, np.mod(frac, 1.0) @ cell, np.array([1, 2] * 3), np.floor(frac)
        )
        head, marker, body = buffer.getvalue().partition("ITEM: ATOMS id type x y z ix iy iz\n")
        lines = body.splitlines()
        if step in (2, 5):
            lines = [lines[i] for i in rng.permutation(len(lines))]
        if step == 3:
            lines = [line + " " for line in lines]
        if step == 4:
            lines = ["  " + line.replace(" ", "   ") for line in lines]
        if step == 6:
            marker = "ITEM: ATOMS ix iy iz x y z type id\n"
            order = [5, 6, 7, 2, 3, 4, 1, 0]
            lines = [" ".join(line.split()[i] for i in order) for line in lines]
        parts.append(head + marker + "\n".join(lines) + "\n")
    return "".join(parts), np.array(truth)


def test_results_do_not_depend_on_block_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    from litcl_flows.io import lammps

    text, truth = _varied_dump()
    data = text.encode()
    whole = list(iter_lammps_dump(io.BytesIO(data), ["Li", "Cl"]))
    assert [f.step for f in whole] == list(range(0, 70, 10))
    for frame, expected in zip(whole, truth, strict=True):
        assert np.allclose(frame.positions_A, expected, atol=2e-5)
    starts = [i for i in range(len(data)) if data.startswith(b"ITEM: TIMESTEP", i)]
    # Every way of grouping frames into blocks: budgets just below, at and above each frame
    # start, down to one frame per block.
    budgets = {1, len(data) * 2} | {s + d for s in starts for d in (-1, 0, 1) if s + d > 0}
    # Reads shorter than a frame and than the marker; blocks parsed in the calling thread too.
    for chunk, threads in ((7, 2), (4096, 2), (4096, 0)):
        monkeypatch.setattr(lammps, "_CHUNK_BYTES", chunk)
        monkeypatch.setattr(lammps, "_PARSE_THREADS", threads)
        for budget in sorted(budgets):
            monkeypatch.setattr(lammps, "_BLOCK_BYTES", budget)
            frames = list(iter_lammps_dump(io.BytesIO(data), ["Li", "Cl"]))
            assert [f.step for f in frames] == [f.step for f in whole]
            for frame, reference in zip(frames, whole, strict=True):
                assert np.array_equal(frame.positions_A, reference.positions_A)
                assert np.array_equal(frame.cell_A, reference.cell_A)
                assert frame.symbols.tolist() == reference.symbols.tolist()


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (_frame(30)[:-16], r"frame 3 \(step 30\): 1 atom lines"),
        ("ITEM: TIMESTEP\n30\nITEM: NUMB", r"frame 3: no 'ITEM: ATOMS'"),
        (_frame(30, length=0.0), r"frame 3: cell volume is 0"),
        (_frame(30).replace("1.0 2.0", "nan 2.0"), r"frame 3 \(step 30\): 2 atoms .*non-finite"),
    ],
    ids=["truncated-frame", "truncated-header", "zero-volume", "nan"],
)
def test_frames_before_a_bad_one_are_yielded_whatever_the_blocks(
    monkeypatch: pytest.MonkeyPatch, tail: str, message: str
) -> None:
    from litcl_flows.io import lammps

    text = (_frame(0) + _frame(10) + _frame(20) + tail).encode()
    starts = [i for i in range(len(text)) if text.startswith(b"ITEM: TIMESTEP", i)]
    for budget in sorted({1, len(text) * 2} | {s + 1 for s in starts}):
        monkeypatch.setattr(lammps, "_BLOCK_BYTES", budget)
        frames = []
        with pytest.raises(TrajectoryFormatError, match=message):
            frames.extend(iter_lammps_dump(io.BytesIO(text), ["Li", "Cl"], name="dump.txt"))
        assert [f.step for f in frames] == [0, 10, 20]
