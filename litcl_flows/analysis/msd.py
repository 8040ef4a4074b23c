"""Mean square displacements averaged over all time origins, by FFT (O(T log T) per column).

pymatgen-analysis-diffusion has the same S1 − 2·S2 algorithm (``_msd_from_positions_fft``),
but it is private and returns the per-atom MSD (as large as the trajectory itself); here the
atoms are transformed in bounded blocks and summed on the fly, so the extra memory stays small
at 6,000 ions × 5,500 frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

#: Transient memory budget for one block of atoms in the FFT, bytes.
_BLOCK_BYTES = 128 * 2**20


def msd_fft(x: np.ndarray) -> np.ndarray:
    """MSD of every column of a time series, averaged over all time origins.

    MSD[m] = 1/(T−m) Σ_{k<T−m} (x[k+m] − x[k])², computed as S1 − 2·S2 with S2 the
    autocorrelation by FFT (Wiener–Khinchin) and S1 from cumulative sums.

    Parameters
    ----------
    x
        Shape (T, ...), time first.

    Returns
    -------
    np.ndarray
        Same shape as ``x``; row m is the MSD at lag m.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    # Displacements from the first frame: same MSD, less cancellation in S1 − 2·S2.
    x = x - x[:1]
    n_fft = next_fast_len(2 * n, real=True)
    spectrum = rfft(x, n=n_fft, axis=0)
    s2 = irfft(spectrum.real**2 + spectrum.imag**2, n=n_fft, axis=0)[:n]
    del spectrum
    cumulative = np.cumsum(x**2, axis=0)
    lag = np.arange(n)
    head = cumulative[n - 1 - lag]  # Σ_{k=0}^{T-m-1} x_k²
    before = np.concatenate([np.zeros_like(cumulative[:1]), cumulative[:-1]])
    tail = cumulative[-1] - before[lag]  # Σ_{k=m}^{T-1} x_k²
    norm = (n - lag).reshape((n,) + (1,) * (x.ndim - 1))
    return (head + tail - 2.0 * s2) / norm


def msd_self_and_total(positions_A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-component self and collective MSD of N ions.

    Parameters
    ----------
    positions_A
        Unwrapped positions, shape (T, N, 3), Å.

    Returns
    -------
    tuple of np.ndarray
        ``self`` = (1/N) Σ_i ⟨Δr_iα(t)²⟩ and ``total`` = (1/N) ⟨(Σ_i Δr_iα(t))²⟩, each of shape
        (T, 3) in Å², per Cartesian component α.
    """
    n_frames, n_ions, _ = positions_A.shape
    per_atom_bytes = 3 * 8 * 6 * next_fast_len(2 * n_frames, real=True)
    block = max(1, _BLOCK_BYTES // per_atom_bytes)
    msd_self = np.zeros((n_frames, 3))
    collective = np.zeros((n_frames, 3))
    for start in range(0, n_ions, block):
        chunk = positions_A[:, start : start + block]
        msd_self += msd_fft(chunk).sum(axis=1)
        collective += chunk.sum(axis=1)
    return msd_self / n_ions, msd_fft(collective) / n_ions


@dataclass(frozen=True)
class MSD:
    """Self, collective and distinct MSD of the mobile ions vs lag time.

    Attributes
    ----------
    time_ps
        Lag times, shape (T,).
    self_A2, total_A2
        Per-component MSD, shape (T, 3), Å²; ``total`` is the collective ("charge") MSD
        (1/N)|Σ_i Δr_i|².
    self_along_A2, total_along_A2
        MSD of the displacement component along ``direction`` (unit vector), or None.
    direction
        The unit vector used, or None.
    """

    time_ps: np.ndarray
    self_A2: np.ndarray
    total_A2: np.ndarray
    self_along_A2: np.ndarray | None = None
    total_along_A2: np.ndarray | None = None
    direction: np.ndarray | None = None

    @property
    def self_sum_A2(self) -> np.ndarray:
        """|Δr|² summed over components, shape (T,)."""
        return self.self_A2.sum(axis=1)

    @property
    def total_sum_A2(self) -> np.ndarray:
        return self.total_A2.sum(axis=1)

    @property
    def distinct_A2(self) -> np.ndarray:
        """MSD_total − MSD_self; negative when the ions' motions are anti-correlated."""
        return self.total_sum_A2 - self.self_sum_A2


def compute_msd(
    positions_A: np.ndarray, frame_interval_ps: float, direction: np.ndarray | None = None
) -> MSD:
    """Self, collective and (optionally) directional MSD of unwrapped positions (T, N, 3)."""
    msd_self, msd_total = msd_self_and_total(positions_A)
    time_ps = np.arange(positions_A.shape[0]) * frame_interval_ps
    if direction is None:
        return MSD(time_ps, msd_self, msd_total)
    unit = np.asarray(direction, dtype=np.float64)
    unit = unit / np.linalg.norm(unit)
    projected = positions_A @ unit
    n_ions = positions_A.shape[1]
    along_self = msd_fft(projected).mean(axis=1)
    along_total = msd_fft(projected.sum(axis=1)) / n_ions
    return MSD(time_ps, msd_self, msd_total, along_self, along_total, unit)
