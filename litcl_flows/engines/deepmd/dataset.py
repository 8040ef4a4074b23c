"""Training sets for DeePMD-kit: pymatgen trajectories / dpdata systems → deepmd-npy folders.

dpdata does the format work (``LabeledSystem``, ``apply_type_map``, ``to("deepmd/npy")``);
what is written here is what dpdata has no notion of: subsampling MD frames in time, dropping
frames whose SCF did not converge, non-finite or duplicate frames, a train/validation split that
keeps validation frames away in time from training frames, and one-line checks that fail
before ``dp train`` starts instead of deep inside TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import dpdata
    from pymatgen.core.trajectory import Trajectory

#: eV/Å³ per kBar; dpdata's own factor (dpdata.unit.PressureConversion("kbar", "eV/angstrom^3")).
EV_A3_PER_KBAR = 1.0 / 1602.1766208
#: Coordinates equal to this many decimals (Å) make two frames duplicates.
DUPLICATE_DECIMALS = 6
#: Keys of pymatgen frame_properties read as labels (the first present wins).
ENERGY_KEYS = ("energy", "e_fr_energy", "e_0_energy", "e_wo_entrp")
CONVERGED_KEYS = ("electronic_converged", "scf_converged", "converged")
#: Slack (fs) in comparisons of frame times, which are sums of float time steps.
TIME_TOLERANCE_fs = 1e-6


class DeepmdDataError(ValueError):
    """A training set that DeePMD-kit cannot use; the message is one line naming the cause."""


@dataclass
class DatasetReport:
    """What :func:`trajectories_to_deepmd` wrote and dropped (units in the field names)."""

    type_map: list[str]
    train_systems: list[str]
    valid_systems: list[str]
    n_frames_in: int
    n_frames_train: int
    n_frames_valid: int
    n_dropped_unconverged: int
    n_dropped_nonfinite: int
    n_dropped_duplicate: int
    energy_per_atom_min_eV: float
    energy_per_atom_max_eV: float
    force_norm_max_eV_A: dict[str, float]
    force_norm_mean_eV_A: dict[str, float]
    split: str
    seed: int
    valid_fraction: float
    frame_interval_fs: float | None
    frame_stride_frames: int
    frame_stride_fs: float | None
    gap_fs: float
    n_dropped_stride: int
    n_dropped_gap: int
    min_valid_train_separation_fs: float | None
    has_virials: bool
    n_frames_labelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form, stored in output documents."""
        return asdict(self)


def default_type_map(elements: set[str] | list[str]) -> list[str]:
    """Elements ordered as in a pymatgen formula (by electronegativity): Li3TiCl6 → Li, Ti, Cl."""
    from pymatgen.core import Element

    return sorted(set(elements), key=lambda el: (Element(el).X, Element(el).Z))


def system_from_trajectory(
    trajectory: Trajectory, stress_unit: Literal["eV/A3", "kBar"] = "eV/A3", name: str = ""
) -> tuple[dpdata.LabeledSystem, np.ndarray]:
    """Convert a labelled pymatgen ``Trajectory`` to a dpdata ``LabeledSystem``.

    Parameters
    ----------
    trajectory
        Frames with ``frame_properties`` holding ``energy`` (eV; VASP's ``e_fr_energy`` also
        read), ``forces`` (eV/Å) and optionally ``stress`` and an electronic-convergence flag
        (``electronic_converged``).
    stress_unit
        ``"eV/A3"`` with ASE's sign (atomate2 force-field and ASE runs) or ``"kBar"`` with
        VASP's sign (vasprun ``stress``). Converted to DeePMD's virial (eV).
    name
        Label used in error messages.

    Returns
    -------
    The system (all frames) and a boolean array, True where the SCF converged (all True when
    the trajectory carries no flag).
    """
    import dpdata

    label = name or "trajectory"
    props = trajectory.frame_properties
    n_frames = len(trajectory)
    if n_frames == 0:
        raise DeepmdDataError(f"{label}: no frames")
    if not props or len(props) != n_frames:
        raise DeepmdDataError(f"{label}: frame_properties missing (energy and forces needed)")
    structures = [trajectory.get_structure(i) for i in range(n_frames)]
    names = [el.symbol for el in structures[0].composition.elements]
    species = [site.specie.symbol for site in structures[0]]
    energies, forces, stresses, converged = [], [], [], []
    for i, frame in enumerate(props):
        energy_key = next((k for k in ENERGY_KEYS if frame.get(k) is not None), None)
        if energy_key is None:
            raise DeepmdDataError(f"{label}: frame {i} has no energy")
        if frame.get("forces") is None:
            raise DeepmdDataError(f"{label}: frame {i} has no forces")
        energies.append(float(frame[energy_key]))
        forces.append(np.asarray(frame["forces"], dtype=float).reshape(-1, 3))
        stresses.append(frame.get("stress"))
        flag = next((frame[k] for k in CONVERGED_KEYS if k in frame), True)
        converged.append(bool(flag))
    cells = np.array([s.lattice.matrix for s in structures])
    data: dict[str, Any] = {
        "atom_names": names,
        "atom_numbs": [species.count(n) for n in names],
        "atom_types": np.array([names.index(s) for s in species]),
        "orig": np.zeros(3),
        "cells": cells,
        "coords": np.array([s.cart_coords for s in structures]),
        "energies": np.array(energies),
        "forces": np.array(forces),
    }
    if all(s is not None for s in stresses):
        stress = np.array([np.asarray(s, dtype=float).reshape(3, 3) for s in stresses])
        volumes = np.abs(np.linalg.det(cells))[:, None, None]
        # DeePMD's virial is -stress·V with ASE's sign; VASP prints the opposite sign in kBar.
        if stress_unit == "kBar":
            data["virials"] = stress * EV_A3_PER_KBAR * volumes
        else:
            data["virials"] = -stress * volumes
    return dpdata.LabeledSystem(data=data), np.array(converged)


def _as_labeled_system(
    item: Any, stress_unit: Literal["eV/A3", "kBar"], name: str
) -> tuple[dpdata.LabeledSystem, np.ndarray, float | None]:
    """The system, its SCF-converged flags and the time between frames (fs) if it says."""
    import dpdata

    if isinstance(item, dpdata.LabeledSystem):
        if "forces" not in item.data:
            raise DeepmdDataError(f"{name}: frames without forces")
        return item, np.ones(item.get_nframes(), dtype=bool), None
    if isinstance(item, dpdata.System):
        raise DeepmdDataError(f"{name}: unlabelled dpdata.System (energies and forces needed)")
    if isinstance(item, dict) and "@class" in item:
        from monty.json import MontyDecoder

        item = MontyDecoder().process_decoded(item)
    system, converged = system_from_trajectory(item, stress_unit=stress_unit, name=name)
    time_step = getattr(item, "time_step", None)
    return system, converged, float(time_step) if time_step else None


def _as_run(
    item: Any, stress_unit: Literal["eV/A3", "kBar"], name: str
) -> tuple[dpdata.LabeledSystem, np.ndarray, float | None]:
    """One MD run: a trajectory, or a list of consecutive segments joined in time order.

    Segments of a walltime-chained run are joined so that the end of one (a validation
    block) is not split from the start of the next (training frames 1 fs later).
    """
    if not isinstance(item, list | tuple):
        return _as_labeled_system(item, stress_unit, name)
    if not item:
        raise DeepmdDataError(f"{name}: empty list of segments")
    parts = [
        _as_labeled_system(seg, stress_unit, f"{name} segment {j}") for j, seg in enumerate(item)
    ]
    steps = {own for *_, own in parts}
    if len(steps) > 1:
        raise DeepmdDataError(f"{name}: segments have different time steps {steps} fs")
    system = parts[0][0].copy()
    for other, *_ in parts[1:]:
        system.append(other)
    return system, np.concatenate([flags for _, flags, _ in parts]), steps.pop()


def _frame_interval(
    given_fs: float | None, own_fs: list[float | None], needed: bool
) -> float | None:
    """Time between consecutive input frames: the one given, else the trajectories' own."""
    if given_fs is not None:
        if not given_fs > 0:
            raise DeepmdDataError(f"frame_interval_fs: {given_fs} is not positive")
        return float(given_fs)
    known = {t for t in own_fs if t is not None}
    if len(known) > 1:
        raise DeepmdDataError(
            f"frame_interval_fs: trajectories have different time steps {sorted(known)} fs; "
            "give one"
        )
    if needed and (not known or None in own_fs):
        unknown = own_fs.index(None)
        raise DeepmdDataError(
            f"trajectory {unknown}: time between frames unknown (no time_step), needed for "
            "frame_stride_fs / gap_fs; give frame_interval_fs"
        )
    return known.pop() if known else None


def _block_split(
    times_fs: np.ndarray, valid_fraction: float, gap_fs: float
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and validation frames of one trajectory (times in fs, increasing).

    The validation set is the last block in time; training frames closer than ``gap_fs``
    before its first frame are left out, so that no training frame is a near copy of a
    validation frame (MD frames a few fs apart are).
    """
    n = times_fs.size
    n_valid = min(n - 1, max(1, round(valid_fraction * n)))
    first_valid = n - n_valid
    cutoff = times_fs[first_valid] - gap_fs + TIME_TOLERANCE_fs
    train = np.flatnonzero(times_fs[:first_valid] <= cutoff)
    return train, np.arange(first_valid, n)


def _keep_mask(
    system: dpdata.LabeledSystem, converged: np.ndarray, seen: set[bytes]
) -> tuple[np.ndarray, int, int, int]:
    """Frames to keep, and counts dropped as unconverged, non-finite and duplicate."""
    n = system.get_nframes()
    finite = np.isfinite(system["energies"]) & np.isfinite(system["forces"].reshape(n, -1)).all(1)
    finite &= np.isfinite(system["coords"].reshape(n, -1)).all(1)
    keep = converged & finite
    n_duplicate = 0
    for i in np.flatnonzero(keep):
        key = _frame_key(system, i)
        if key in seen:
            keep[i] = False
            n_duplicate += 1
        seen.add(key)
    return keep, int((~converged).sum()), int((converged & ~finite).sum()), n_duplicate


def _frame_key(system: dpdata.LabeledSystem, i: int) -> bytes:
    """Identity of a frame: its cell, coordinates and atom types, rounded."""
    return (
        np.round(
            np.concatenate([system["cells"][i].ravel(), system["coords"][i].ravel()]),
            DUPLICATE_DECIMALS,
        ).tobytes()
        + np.asarray(system["atom_types"]).tobytes()
    )


def trajectories_to_deepmd(
    trajectories: list[Any],
    out_dir: str | Path,
    type_map: list[str] | None = None,
    valid_fraction: float = 0.1,
    seed: int = 0,
    split: Literal["blocks", "trajectories"] = "blocks",
    frame_interval_fs: float | None = None,
    frame_stride_fs: float = 0.0,
    gap_fs: float = 0.0,
    stress_unit: Literal["eV/A3", "kBar"] = "eV/A3",
    labelled: Sequence[Any] = (),
    labelled_stress_unit: Literal["eV/A3", "kBar"] = "kBar",
) -> DatasetReport:
    """Write a DeePMD-kit training and validation set (deepmd/npy) from labelled trajectories.

    Frames are first subsampled in time (every ``frame_stride_fs``), then bad frames are
    dropped, then the rest is split. The defaults keep every frame and leave no gap; the
    study's dataset job (:class:`~litcl_flows.makers.deepmd.DeepmdDatasetMaker`) keeps
    frames 10 fs apart and leaves a gap before the validation block.

    Parameters
    ----------
    trajectories
        One item per MD run, frames in time order: a pymatgen ``Trajectory`` (or its
        ``as_dict()``), a dpdata ``LabeledSystem``, or a list of these holding consecutive
        segments of one run (joined before the split).
    out_dir
        Folder receiving ``train/sys_NNN`` and ``valid/sys_NNN``.
    type_map
        Element order of the model; None: every element present, ordered as in a pymatgen
        formula (:func:`default_type_map`). An element in the data but not in the map fails.
    valid_fraction
        Fraction of each trajectory's kept frames (``split="blocks"``) or of whole
        trajectories (``split="trajectories"``) held out for validation.
    seed
        Seed of the choice of held-out trajectories (``split="trajectories"``).
    split
        ``"blocks"``: the last block in time of every trajectory is validation, and training
        frames within ``gap_fs`` before it are left out; ``"trajectories"``: hold out whole
        trajectories (validation on unseen runs, e.g. another temperature).
    frame_interval_fs
        Time between consecutive input frames, fs (MD time step × output interval); None:
        each pymatgen ``Trajectory``'s own ``time_step``. Needed when ``frame_stride_fs`` or
        ``gap_fs`` is set.
    frame_stride_fs
        Keep one frame every this many fs (rounded up to whole frames; 0: every frame).
    gap_fs
        Least time between the last training frame and the first validation frame of a
        trajectory (``split="blocks"``).
    stress_unit
        Unit and sign convention of pymatgen ``stress`` (see :func:`system_from_trajectory`).
    labelled
        Frames labelled one by one (concurrent learning), items as in ``trajectories``: they
        join the training set whole (no stride, no split) after the same drop of bad or
        repeated frames, so that the validation set stays the reference runs' own and the
        validation errors of successive models compare.
    labelled_stress_unit
        Stress convention of ``labelled`` (kBar, VASP's sign: what the labelling job gives for
        every engine).

    Returns
    -------
    DatasetReport
        Paths (relative to ``out_dir``), the split and stride used, frame counts, dropped
        counts, the smallest time between a validation and a training frame, label ranges.
    """
    _check_arguments(trajectories, valid_fraction, split, frame_stride_fs, gap_fs)
    uses_time = frame_stride_fs > 0 or (gap_fs > 0 and split == "blocks")
    selection = _select_frames(
        trajectories, type_map, frame_interval_fs, frame_stride_fs, uses_time, stress_unit
    )
    parts = _split_frames(selection.pairs, split, valid_fraction, seed, gap_fs)
    added = _labelled_systems(labelled, selection, labelled_stress_unit)
    parts.train.extend(added)
    report = _write_dataset(Path(out_dir), selection, parts, split, seed, valid_fraction, gap_fs)
    report.n_frames_labelled = sum(system.get_nframes() for system in added)
    return report


def _labelled_systems(
    labelled: Sequence[Any], selection: _Selection, stress_unit: Literal["eV/A3", "kBar"]
) -> list[dpdata.LabeledSystem]:
    """The labelled frames as training systems; bad or repeated frames counted as dropped."""
    systems = []
    seen = {_frame_key(s, i) for s, _ in selection.pairs for i in range(s.get_nframes())}
    for k, item in enumerate(labelled):
        system, converged, _ = _as_run(item, stress_unit, f"labelled frames {k}")
        selection.n_in += system.get_nframes()
        keep, n_unconverged, n_nonfinite, n_duplicate = _keep_mask(system, converged, seen)
        selection.n_unconverged += n_unconverged
        selection.n_nonfinite += n_nonfinite
        selection.n_duplicate += n_duplicate
        present = {n for n, c in zip(system["atom_names"], system["atom_numbs"], strict=True) if c}
        missing = sorted(present - set(selection.type_map))
        if missing:
            raise DeepmdDataError(f"labelled frames {k}: element(s) {missing} not in the type map")
        if keep.any():
            systems.append(system.sub_system(np.flatnonzero(keep)))
    return systems


@dataclass
class _Selection:
    """The frames kept of each trajectory after the time stride and the drop of bad frames."""

    type_map: list[str]
    #: Each trajectory with frames left: its kept frames and their times (fs; 0 if unknown).
    pairs: list[tuple[dpdata.LabeledSystem, np.ndarray]]
    interval_fs: float | None
    stride: int
    n_in: int
    n_stride: int
    n_unconverged: int
    n_nonfinite: int
    n_duplicate: int


@dataclass
class _Split:
    """Training and validation systems, frames left out in the gaps, validation–training
    separations (fs)."""

    train: list[dpdata.LabeledSystem]
    valid: list[dpdata.LabeledSystem]
    n_gap: int
    separations_fs: list[float]


def _check_arguments(
    trajectories: list[Any],
    valid_fraction: float,
    split: str,
    frame_stride_fs: float,
    gap_fs: float,
) -> None:
    """Fail on arguments no dataset satisfies, before any trajectory is read."""
    if not trajectories:
        raise DeepmdDataError("dataset: no trajectories given")
    if not 0.0 < valid_fraction < 1.0:
        raise DeepmdDataError(f"valid_fraction: {valid_fraction} not in (0, 1)")
    if split not in ("blocks", "trajectories"):
        raise DeepmdDataError(f"split: {split!r} is not 'blocks' or 'trajectories'")
    if frame_stride_fs < 0 or gap_fs < 0:
        raise DeepmdDataError(f"frame_stride_fs {frame_stride_fs}, gap_fs {gap_fs}: negative")


def _select_frames(
    trajectories: list[Any],
    type_map: list[str] | None,
    frame_interval_fs: float | None,
    frame_stride_fs: float,
    uses_time: bool,
    stress_unit: Literal["eV/A3", "kBar"],
) -> _Selection:
    """Load the runs, keep one frame per stride, drop bad frames, settle the type map."""
    loaded = [_as_run(item, stress_unit, f"trajectory {i}") for i, item in enumerate(trajectories)]
    interval = _frame_interval(frame_interval_fs, [own for *_, own in loaded], uses_time)
    # Whole frames, rounded up so kept frames are at least frame_stride_fs apart; the slack
    # keeps 10 fs / (10 × 1.0 fs) from becoming 11 frames through float error.
    stride = 1
    if frame_stride_fs > 0:
        stride = max(1, math.ceil(frame_stride_fs / interval - 1e-6))
    systems, masks, times = [], [], []
    n_in = n_stride = n_unconv = n_nonfinite = n_dup = 0
    seen: set[bytes] = set()
    for system, converged, _ in loaded:
        n_in += system.get_nframes()
        picked = np.arange(0, system.get_nframes(), stride)
        n_stride += system.get_nframes() - picked.size
        system = system.sub_system(picked)
        keep, d_unconv, d_nonfinite, d_dup = _keep_mask(system, converged[picked], seen)
        n_unconv, n_nonfinite, n_dup = n_unconv + d_unconv, n_nonfinite + d_nonfinite, n_dup + d_dup
        systems.append(system)
        masks.append(keep)
        times.append(picked[keep] * (interval or 0.0))
    elements = {
        name
        for s in systems
        for name, count in zip(s["atom_names"], s["atom_numbs"], strict=True)
        if count > 0
    }
    type_map = list(type_map) if type_map else default_type_map(elements)
    missing = sorted(elements - set(type_map))
    if missing:
        raise DeepmdDataError(f"type_map {type_map}: element(s) {missing} in the data are missing")
    pairs = [
        (s.sub_system(np.flatnonzero(m)), t)
        for s, m, t in zip(systems, masks, times, strict=True)
        if m.any()
    ]
    if not pairs:
        raise DeepmdDataError(f"dataset: no frames left of {n_in} after dropping bad frames")
    return _Selection(
        type_map, pairs, interval, stride, n_in, n_stride, n_unconv, n_nonfinite, n_dup
    )


def _split_frames(
    pairs: list[tuple[dpdata.LabeledSystem, np.ndarray]],
    split: str,
    valid_fraction: float,
    seed: int,
    gap_fs: float,
) -> _Split:
    """Hold out whole trajectories, or the last block in time of each (see ``split``)."""
    train_parts, valid_parts = [], []
    n_gap = 0
    separations: list[float] = []
    if split == "trajectories":
        if len(pairs) < 2:
            raise DeepmdDataError("split='trajectories': needs at least 2 usable trajectories")
        rng = np.random.default_rng(seed)
        n_valid = min(len(pairs) - 1, max(1, round(valid_fraction * len(pairs))))
        valid_idx = set(rng.permutation(len(pairs))[:n_valid].tolist())
        for i, (s, _) in enumerate(pairs):
            (valid_parts if i in valid_idx else train_parts).append(s)
    else:
        for s, t in pairs:
            if s.get_nframes() < 2:
                train_parts.append(s)
                continue
            train_idx, valid_idx = _block_split(t, valid_fraction, gap_fs)
            n_gap += valid_idx[0] - train_idx.size
            valid_parts.append(s.sub_system(valid_idx))
            if train_idx.size:
                train_parts.append(s.sub_system(train_idx))
                separations.append(float(t[valid_idx[0]] - t[train_idx[-1]]))
    if not valid_parts:
        raise DeepmdDataError("dataset: too few frames for a validation set (need ≥ 2 frames)")
    if not train_parts:
        raise DeepmdDataError(
            f"dataset: no training frames left (gap_fs {gap_fs} covers every trajectory)"
        )
    return _Split(train_parts, valid_parts, n_gap, separations)


def _write_systems(
    parts: list[dpdata.LabeledSystem], type_map: list[str], out: Path, sub: str
) -> list[str]:
    """Write each system as ``out/sub/sys_NNN`` (deepmd/npy, one set); the relative paths."""
    paths = []
    for j, s in enumerate(parts):
        s.apply_type_map(type_map)
        rel = f"{sub}/sys_{j:03d}"
        s.to("deepmd/npy", str(out / rel), set_size=s.get_nframes())
        paths.append(rel)
    return paths


def _write_dataset(
    out: Path,
    selection: _Selection,
    parts: _Split,
    split: str,
    seed: int,
    valid_fraction: float,
    gap_fs: float,
) -> DatasetReport:
    """Write the training and validation systems and report them and their label ranges."""
    type_map, interval = selection.type_map, selection.interval_fs
    train_paths = _write_systems(parts.train, type_map, out, "train")
    valid_paths = _write_systems(parts.valid, type_map, out, "valid")
    every = parts.train + parts.valid
    e_atom = np.concatenate([s["energies"] / s.get_natoms() for s in every])
    f_max: dict[str, float] = {}
    f_mean: dict[str, float] = {}
    for t, el in enumerate(type_map):
        norms = [np.linalg.norm(s["forces"][:, s["atom_types"] == t], axis=-1) for s in every]
        norms = np.concatenate([n.ravel() for n in norms])
        if norms.size:
            f_max[el], f_mean[el] = float(norms.max()), float(norms.mean())
    return DatasetReport(
        type_map=type_map,
        train_systems=train_paths,
        valid_systems=valid_paths,
        n_frames_in=selection.n_in,
        n_frames_train=sum(s.get_nframes() for s in parts.train),
        n_frames_valid=sum(s.get_nframes() for s in parts.valid),
        n_dropped_unconverged=selection.n_unconverged,
        n_dropped_nonfinite=selection.n_nonfinite,
        n_dropped_duplicate=selection.n_duplicate,
        energy_per_atom_min_eV=float(e_atom.min()),
        energy_per_atom_max_eV=float(e_atom.max()),
        force_norm_max_eV_A=f_max,
        force_norm_mean_eV_A=f_mean,
        split=split,
        seed=seed,
        valid_fraction=valid_fraction,
        frame_interval_fs=interval,
        frame_stride_frames=selection.stride,
        frame_stride_fs=selection.stride * interval if interval is not None else None,
        gap_fs=gap_fs if split == "blocks" else 0.0,
        n_dropped_stride=selection.n_stride,
        n_dropped_gap=int(parts.n_gap),
        min_valid_train_separation_fs=(
            min(parts.separations_fs) if parts.separations_fs and interval is not None else None
        ),
        has_virials=all(s.has_virial() for s in every),
    )


def check_deepmd_system(path: str | Path, type_map: list[str]) -> int:
    """Check one deepmd/npy system folder against the model's ``type_map``; return its frames.

    Raises :class:`DeepmdDataError` with one line naming the file when DeePMD-kit could not
    train on it: no ``set.*`` folder, no frames, missing ``force.npy``/``energy.npy``, an
    element outside ``type_map``, or non-finite labels.
    """
    root = Path(path)
    if not (root / "type.raw").is_file():
        raise DeepmdDataError(f"{root / 'type.raw'}: missing (not a deepmd/npy system)")
    types = np.loadtxt(root / "type.raw", dtype=int, ndmin=1)
    names_file = root / "type_map.raw"
    names = names_file.read_text().split() if names_file.is_file() else list(type_map)
    present = sorted({names[t] for t in set(types.tolist())})
    missing = [el for el in present if el not in type_map]
    if missing:
        raise DeepmdDataError(
            f"{names_file}: element(s) {missing} missing from type_map {type_map}"
        )
    sets = sorted(root.glob("set.*"))
    if not sets:
        raise DeepmdDataError(f"{root}: no set.* folder (empty system)")
    n_frames = 0
    for set_dir in sets:
        for label in ("coord", "box", "energy", "force"):
            if not (set_dir / f"{label}.npy").is_file():
                raise DeepmdDataError(f"{set_dir / (label + '.npy')}: missing")
        energy = np.load(set_dir / "energy.npy")
        force = np.load(set_dir / "force.npy")
        if force.size != energy.size * types.size * 3:
            raise DeepmdDataError(
                f"{set_dir / 'force.npy'}: {force.size} values, expected "
                f"{energy.size} frames × {types.size} atoms × 3"
            )
        if not (np.isfinite(energy).all() and np.isfinite(force).all()):
            raise DeepmdDataError(f"{set_dir}: non-finite energy or force")
        n_frames += energy.size
    if n_frames == 0:
        raise DeepmdDataError(f"{root}: 0 frames")
    return n_frames
