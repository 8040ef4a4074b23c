"""Collect the unwrapped, drift-corrected positions of the mobile ions from a frame stream."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from litcl_flows.io.frames import Frame, TrajectoryFormatError


class TransportWarning(UserWarning):
    """A result is computed but may not mean what it seems (coarse frames, short run, …)."""


#: Frames in which mobile-ion displacements are measured: relative to the host framework's
#: centre of mass (drift corrected), or as written in the simulation box (no correction).
ReferenceFrame = Literal["host centre of mass", "simulation box"]


@dataclass(frozen=True)
class MobileTrajectory:
    """Unwrapped positions of the mobile ions, as the MSD needs them.

    Attributes
    ----------
    positions_A
        Shape (n_frames, n_mobile, 3), float64, Å, continuous in time, drift-corrected when
        requested.
    steps
        MD step of every frame, shape (n_frames,), evenly spaced.
    volume_A3
        Cell volume averaged over the frames (NPT cells change), Å³.
    drift_A
        Displacement of the host framework's centre of mass per frame, shape (n_frames, 3), Å;
        zeros when drift correction is off or impossible.
    species
        Mobile element.
    cells_A
        Cell of every frame, shape (n_frames, 3, 3), Å.
    reference_frame
        Frame of ``positions_A``: ``"host centre of mass"`` (drift subtracted) or
        ``"simulation box"``.
    """

    positions_A: np.ndarray
    steps: np.ndarray
    volume_A3: float
    drift_A: np.ndarray
    species: str
    cells_A: np.ndarray
    reference_frame: ReferenceFrame = "host centre of mass"

    @property
    def n_frames(self) -> int:
        return self.positions_A.shape[0]

    @property
    def n_mobile(self) -> int:
        return self.positions_A.shape[1]


#: Atom positions held before they are unwrapped together (frames × atoms): ~6 MB of float64
#: per copy, so a batch of small frames costs a few array operations instead of some per frame.
_BATCH_ATOMS = 1 << 18


class _Unwrapper:
    """Continuous positions of a fixed set of atoms, fed a batch of consecutive frames at a
    time.

    Wrapped input is unwrapped by the minimum-image convention between consecutive frames in
    fractional coordinates (valid for any triclinic and for a changing NPT cell). The steps are
    accumulated in frame order, so the result does not depend on where batches are cut.
    """

    def __init__(self, warn_fraction: float, label: str) -> None:
        self._frac: np.ndarray | None = None
        self._unwrapped_frac: np.ndarray | None = None
        self._warn_fraction = warn_fraction
        self._warned = False
        self._label = label

    def __call__(
        self, positions: np.ndarray, cells: np.ndarray, frames: list[Frame], first_index: int
    ) -> np.ndarray:
        """Unwrapped positions (k, n, 3) of k frames whose positions (k, n, 3) and cells
        (k, 3, 3) are given; ``frames`` (for ``unwrapped``, steps) start at ``first_index``."""
        if frames[0].unwrapped:
            return positions
        frac = positions @ np.linalg.inv(cells)
        if self._frac is None or self._unwrapped_frac is None:
            self._frac, self._unwrapped_frac = frac[0], frac[0].copy()
            frac, first_out = frac[1:], self._unwrapped_frac[None] @ cells[:1]
            cells, frames, first_index = cells[1:], frames[1:], first_index + 1
        else:
            first_out = None
        if len(frac):
            jump = np.diff(np.concatenate([self._frac[None], frac]), axis=0)
            jump -= np.round(jump)
            # A minimum-image step near half a cell is ambiguous: the true move may be the
            # other way round. Steps beyond warn_fraction mean the frames are too far apart.
            largest = np.abs(jump).max(axis=(1, 2), initial=0.0)
            over = largest > self._warn_fraction
            if over.any() and not self._warned:
                self._warned = True
                i = int(np.argmax(over))
                warnings.warn(
                    f"{self._label}: frame {first_index + i} (step {frames[i].step}): an atom "
                    f"moved {largest[i]:.2f} of a cell length since the previous frame; frames "
                    "are too far apart to unwrap safely",
                    TransportWarning,
                    stacklevel=5,
                )
            # Running sum in frame order, as adding one step per frame would give.
            unwrapped = np.cumsum(np.concatenate([self._unwrapped_frac[None], jump]), axis=0)[1:]
            self._frac, self._unwrapped_frac = frac[-1], unwrapped[-1]
            out = unwrapped @ cells
        else:
            out = np.empty((0, *positions.shape[1:]))
        return out if first_out is None else np.concatenate([first_out, out])


def _mass_weights(symbols: np.ndarray) -> np.ndarray:
    """Atomic masses of the symbols normalised to sum 1; equal weights for type labels."""
    # ase.data (IUPAC 2016; pymatgen's Element masses differ by < 2e-4 relative), not
    # pymatgen.core, whose import is ~0.13 s of a `litcl analyze` that takes ~1 s on a small file.
    from ase.data import atomic_masses, atomic_numbers

    numbers = [atomic_numbers.get(str(x), 0) for x in symbols.tolist()]
    if 0 in numbers:
        return np.full(len(symbols), 1.0 / len(symbols))
    masses = atomic_masses[numbers]
    return masses / masses.sum()


class _Collector:
    """What `collect_mobile` keeps of the frames it has read: steps, cells, the host centre of
    every frame, and the mobile ions' unwrapped positions, one array per batch of frames."""

    def __init__(
        self,
        mobile: str,
        drift_correction: bool,
        unwrap_warn_fraction: float,
        label: str,
        host_com_A: Mapping[int, np.ndarray] | None,
    ) -> None:
        self.mobile = mobile
        self.label = label
        self.host_com_A = host_com_A
        #: Whether displacements are measured against the host's centre of mass.
        self.correct = drift_correction
        self.unwrap_mobile = _Unwrapper(unwrap_warn_fraction, label)
        self.unwrap_framework = _Unwrapper(unwrap_warn_fraction, label)
        self.is_mobile: np.ndarray | None = None
        self.weights: np.ndarray | None = None
        self.mobile_rows: list[np.ndarray | None] = []
        self.steps: list[int] = []
        self.cells: list[np.ndarray] = []
        self.centres: list[np.ndarray] = []
        # Frames wait in `batch` (from frame `batch_start`) and are unwrapped together; a batch
        # holds at most `limit` frames, alike in size and kind (unwrapped or not).
        self.batch: list[Frame] = []
        self.batch_start = 0
        self.limit = 1

    def _start(self, frame: Frame) -> None:
        """Fix the mobile ions, the drift correction and the batch size from frame 0."""
        self.is_mobile = frame.symbols == self.mobile
        if not self.is_mobile.any():
            present = ", ".join(sorted(set(frame.symbols.tolist())))
            raise TrajectoryFormatError(
                f"{self.label}: frame 0: no {self.mobile} atoms (species present: {present})"
            )
        if self.correct and self.host_com_A is None and self.is_mobile.all():
            self.correct = False
            warnings.warn(
                f"{self.label}: drift correction is impossible: the frames hold only "
                f"{self.mobile} and no host centre of mass was given; displacements are in the "
                "simulation box, so D_total and σ miss the host's recoil",
                TransportWarning,
                stacklevel=4,  # the caller of collect_mobile
            )
        if self.correct and self.host_com_A is None:
            self.weights = _mass_weights(frame.symbols[~self.is_mobile])
        self.limit = max(1, _BATCH_ATOMS // max(1, len(frame.positions_A)))

    def check(self, index: int, frame: Frame) -> None:
        """Check frame ``index`` (mobile ions present, even step spacing, a recorded host
        centre) and note its host centre unless it comes from the frame's own host atoms."""
        if self.is_mobile is None:
            self._start(frame)
        steps = self.steps
        if steps:
            spacing = frame.step - steps[-1]
            expected = steps[1] - steps[0] if len(steps) > 1 else spacing
            if spacing <= 0 or spacing != expected:
                raise TrajectoryFormatError(
                    f"{self.label}: frame {index} (step {frame.step}): steps are not evenly "
                    f"spaced (previous step {steps[-1]}, spacing {expected})"
                )
        if not self.correct:
            self.centres.append(np.zeros(3))
        elif self.host_com_A is not None:
            if frame.step not in self.host_com_A:
                raise TrajectoryFormatError(
                    f"{self.label}: frame {index} (step {frame.step}): no host centre of mass "
                    "recorded at this step"
                )
            self.centres.append(np.asarray(self.host_com_A[frame.step], dtype=np.float64))

    def fits_batch(self, frame: Frame) -> bool:
        first = self.batch[0] if self.batch else frame
        return (
            frame.unwrapped == first.unwrapped
            and frame.positions_A.shape == first.positions_A.shape
        )

    def add(self, frame: Frame) -> None:
        self.batch.append(frame)
        self.steps.append(frame.step)
        self.cells.append(frame.cell_A)

    @property
    def batch_full(self) -> bool:
        return len(self.batch) >= self.limit

    def flush(self, on_frame: Callable[[int], None] | None) -> None:
        """Unwrap the waiting frames; their host centres too when the frames hold the host."""
        batch = self.batch
        if not batch:
            return
        positions = np.array([frame.positions_A for frame in batch])
        cells = np.array([frame.cell_A for frame in batch])
        is_mobile = self.is_mobile
        self.mobile_rows.append(
            self.unwrap_mobile(positions[:, is_mobile], cells, batch, self.batch_start)
        )
        if self.correct and self.host_com_A is None:
            host = self.unwrap_framework(positions[:, ~is_mobile], cells, batch, self.batch_start)
            # One vector-matrix product per frame, on a fresh copy: BLAS may order its sum by
            # memory alignment (a stacked product or a view into the batch differs in the last
            # bit), and the centres must not depend on where a batch was cut (~2 % of the time).
            self.centres.extend(self.weights @ rows.copy() for rows in host)
        if on_frame is not None:
            for index in range(self.batch_start, self.batch_start + len(batch)):
                on_frame(index)
        self.batch_start += len(batch)
        self.batch = []

    def trajectory(self) -> MobileTrajectory:
        """The collected frames; TrajectoryFormatError when there were none."""
        if not self.steps:
            raise TrajectoryFormatError(f"{self.label}: no frames")
        drift_A = np.array(self.centres) - self.centres[0]
        # Fill a preallocated array and free each batch as it is copied: the peak is one copy.
        positions = np.empty((len(self.steps), int(self.is_mobile.sum()), 3))  # type: ignore[union-attr]
        rows = self.mobile_rows
        start = 0
        for i, batch in enumerate(rows):
            stop = start + len(batch)  # type: ignore[arg-type]
            positions[start:stop] = batch - drift_A[start:stop, None, :]
            rows[i] = None
            start = stop
        cells_A = np.array(self.cells)
        return MobileTrajectory(
            positions_A=positions,
            steps=np.array(self.steps, dtype=np.int64),
            volume_A3=float(np.mean(np.abs(np.linalg.det(cells_A)))),
            drift_A=drift_A,
            species=self.mobile,
            cells_A=cells_A,
            reference_frame="host centre of mass" if self.correct else "simulation box",
        )


def collect_mobile(
    frames: Iterable[Frame],
    mobile: str,
    drift_correction: bool = True,
    unwrap_warn_fraction: float = 0.25,
    label: str = "<trajectory>",
    on_frame: Callable[[int], None] | None = None,
    host_com_A: Mapping[int, np.ndarray] | None = None,
) -> MobileTrajectory:
    """Read a frame stream once, keeping only the mobile ions' unwrapped positions.

    Parameters
    ----------
    frames
        Frames from any `litcl_flows.io` reader: all atoms, or only the mobile ions together
        with ``host_com_A``.
    mobile
        Element of the mobile ion, e.g. ``"Li"``.
    drift_correction
        Measure the mobile ions' positions relative to the host framework's centre of mass
        (all non-mobile atoms, mass-weighted). With total momentum conserved the host recoils
        against the mobile-ion current by −(N m / M_host) of it, so without this the collective
        MSD is too small by (1 + N m / M_host)² (pymatgen-analysis-diffusion and kinisi
        subtract the framework's unweighted mean; the two differ only by bounded vibrations).
        When the frames hold no host atoms and no ``host_com_A`` is given, the correction is
        impossible: a `TransportWarning` says so and positions stay in the simulation box.
    unwrap_warn_fraction
        Warn when a minimum-image step between frames exceeds this fraction of a cell vector.
    label
        File name for messages.
    on_frame
        Called with the index of every frame once it is unwrapped (progress reporting;
        frames are unwrapped in batches of up to ``_BATCH_ATOMS`` atom positions).
    host_com_A
        Step → unwrapped host centre of mass, Å (:func:`litcl_flows.io.read_host_com`); used
        instead of the frames' host atoms when given. Every frame's step must be present.

    Returns
    -------
    MobileTrajectory

    Raises
    ------
    TrajectoryFormatError
        No frames, mobile species absent, unevenly spaced steps, or a step missing from
        ``host_com_A``.
    """
    collector = _Collector(mobile, drift_correction, unwrap_warn_fraction, label, host_com_A)
    # Batches are flushed here, not inside the collector, so that an unwrapping warning's
    # stack level names the same caller whichever frame fills a batch.
    try:
        for index, frame in enumerate(frames):
            collector.check(index, frame)
            if not collector.fits_batch(frame):
                collector.flush(on_frame)
            collector.add(frame)
            if collector.batch_full:
                collector.flush(on_frame)
        collector.flush(on_frame)
    except TrajectoryFormatError:
        # The frames before the bad one are unwrapped first, with any warning they raise.
        collector.flush(on_frame)
        raise
    return collector.trajectory()
