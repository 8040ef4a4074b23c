"""Mean square displacements averaged over all time origins, by FFT (O(T log T) per column).

pymatgen-analysis-diffusion has the same S1 − 2·S2 algorithm (``_msd_from_positions_fft``),
but it is private and returns the per-atom MSD (as large as the trajectory itself); here the
atoms are transformed in bounded blocks and only sums over atoms are kept, so the extra memory
stays small at 6,000 ions × 5,500 frames. S1 and S2 are both sums of per-atom terms, so the
self MSD sums the atoms' squares and power spectra first and needs one inverse FFT per
Cartesian component instead of one per atom (~3× faster than per atom; the rounding of the
larger sums moves the MSD at the first lags by ~1e-12 of its value, the fits by ~1e-14).
Series are laid out time-last: pocketfft runs ~3× faster along contiguous rows than along
axis 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Transient memory budget for one block of atoms in the FFT, bytes.
_BLOCK_BYTES = 128 * 2**20


def fft_length(n: int) -> int:
    """Smallest 2^a·3^b·5^c ≥ ``n``, the sizes pocketfft transforms fastest: what
    ``scipy.fft.next_fast_len(n, real=True)`` gives, without its ~0.1 s import."""
    best = 1 << max(0, n - 1).bit_length()
    five = 1
    while five < best:
        odd = five  # 3^b·5^c
        while odd < best:
            # Times the smallest power of two that takes it to ≥ n.
            best = min(best, odd << (-(-n // odd) - 1).bit_length())
            odd *= 3
        five *= 5
    return best


def _msd_from_sums(power: np.ndarray, squares: np.ndarray, n_fft: int) -> np.ndarray:
    """MSD at every lag (time last) of displacement series x from Σ|rfft(x, n_fft)|² and Σ x²,
    each summed over any number of series: (S1 − 2·S2) / (T − m).

    S2 is the autocorrelation by FFT (Wiener–Khinchin), S1[m] = Σ_{k<T−m} x_k² + Σ_{k≥m} x_k²
    from cumulative sums.
    """
    n = squares.shape[-1]
    s2 = np.fft.irfft(power, n=n_fft, axis=-1)[..., :n]
    cumulative = np.cumsum(squares, axis=-1)
    lag = np.arange(n)
    head = cumulative[..., n - 1 - lag]  # Σ_{k=0}^{T-m-1} x_k²
    before = np.concatenate([np.zeros_like(cumulative[..., :1]), cumulative[..., :-1]], axis=-1)
    tail = cumulative[..., -1:] - before[..., lag]  # Σ_{k=m}^{T-1} x_k²
    return (head + tail - 2.0 * s2) / (n - lag)


def _displacements(x: np.ndarray) -> np.ndarray:
    """``x`` (T, ...) relative to its first frame, time moved last and contiguous (less
    cancellation in S1 − 2·S2 than raw positions; the MSD is the same)."""
    return np.ascontiguousarray(np.moveaxis(x - x[:1], 0, -1))


def _power(x: np.ndarray, n_fft: int) -> np.ndarray:
    """|rfft|² of every row of ``x`` (time last), zero-padded to ``n_fft``."""
    spectrum = np.fft.rfft(x, n=n_fft, axis=-1)
    return spectrum.real**2 + spectrum.imag**2


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
    series = _displacements(np.asarray(x, dtype=np.float64))
    n_fft = fft_length(2 * series.shape[-1])
    msd = _msd_from_sums(_power(series, n_fft), series**2, n_fft)
    return np.moveaxis(msd, -1, 0)


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
    n_fft = fft_length(2 * n_frames)
    # Per atom: its displacements, their squares and the spectrum with its power (≈ 3 n_fft
    # complex values each way), float64.
    block = max(1, _BLOCK_BYTES // (3 * 8 * (2 * n_frames + 3 * n_fft)))
    power = np.zeros((3, n_fft // 2 + 1))
    squares = np.zeros((3, n_frames))
    collective = np.zeros((3, n_frames))
    for start in range(0, n_ions, block):
        series = _displacements(np.asarray(positions_A[:, start : start + block], np.float64))
        power += _power(series, n_fft).sum(axis=0)
        squares += (series**2).sum(axis=0)
        collective += series.sum(axis=0)
    msd_self = _msd_from_sums(power, squares, n_fft) / n_ions
    msd_total = _msd_from_sums(_power(collective, n_fft), collective**2, n_fft) / n_ions
    return msd_self.T, msd_total.T


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
