"""Diffusion coefficients, Haven ratio and Nernst–Einstein conductivity, with error bars.

Uncertainties come from a block jackknife: the run is cut into ``n_blocks`` consecutive,
non-overlapping time blocks, each treated as an independent short run (its own MSD over its
own time origins and the same fit window). The standard error of D is the standard deviation
of the block values over √n_blocks; that of H_R comes from the delete-one-block jackknife of
the ratio of block means, which keeps the D_self–D_total correlation. Because the collective
MSD has one sample per time origin instead of N, its block values scatter more and the
D_total, H_R and σ error bars show it. (kinisi models the MSD covariance instead; blocks are
chosen here because they need no model of the noise and cost one extra FFT pass.)

A standard error from n blocks is itself uncertain, with n − 1 degrees of freedom: intervals
are value ± t(0.975, n − 1) × stderr (Student t), not ± 1.96 × stderr, which covers only
about 87 % with 5 blocks (:func:`student_t_interval`).

Whether the fit window is diffusive at all is measured, not assumed: the local exponent
α = d ln MSD / d ln t over the window (least-squares slope of ln MSD against ln t) is 1 for
diffusion, 2 for ballistic flight and below 1 while the vibrational (cage) offset still
dominates. A run whose self or collective exponent is further than
``max_exponent_deviation`` from 1 is flagged.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special

from litcl_flows.analysis import units
from litcl_flows.analysis.msd import MSD, compute_msd, msd_self_and_total
from litcl_flows.analysis.trajectory import MobileTrajectory, TransportWarning
from litcl_flows.analysis.transport_numbers import TransportNumbers
from litcl_flows.defaults import DEFAULT_MAX_EXPONENT_DEVIATION, DEFAULT_N_BLOCKS

#: Default fit window as fractions of one block's duration: skip the ballistic/vibrational
#: first 10 %, stop at half the block where the number of time origins is still large.
DEFAULT_FIT_FRACTION: tuple[float, float] = (0.1, 0.5)
#: Below this self MSD (Å²) at the end of the fit window the ions have hardly left their
#: sites (a Li hop is ~2–3 Å, so one hop per ion gives ~4–9 Å²).
MIN_DIFFUSIVE_MSD_A2: float = 4.0
#: Frames one block needs for a fit with an intercept over a window inside it.
MIN_FRAMES_PER_BLOCK: int = 4
#: Confidence level of every interval reported.
CONFIDENCE_LEVEL: float = 0.95


def student_t_interval(
    value: float, stderr: float, dof: int, level: float = CONFIDENCE_LEVEL
) -> tuple[float, float]:
    """Two-sided interval value ± t(½ + level/2, dof) × stderr (Student t, ``dof`` ≥ 1)."""
    # special.stdtrit is stats.t.ppf without importing scipy.stats (~0.4 s of `litcl analyze`).
    half = float(special.stdtrit(dof, 0.5 + level / 2)) * stderr
    return value - half, value + half


def msd_exponent(time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float]) -> float:
    """Slope of ln MSD against ln t over the window (lags > 0 with MSD > 0): 1 when diffusive.

    NaN when fewer than two such lags lie in the window (e.g. a collective MSD that is zero).
    """
    inside = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1]) & (time_ps > 0) & (msd_A2 > 0)
    if np.count_nonzero(inside) < 2:
        return float("nan")
    return float(np.polyfit(np.log(time_ps[inside]), np.log(msd_A2[inside]), 1)[0])


def nernst_einstein_S_m(
    diffusivity_m2_s: float, density_m3: float, temperature_K: float, charge: float = 1.0
) -> float:
    """σ = n z² e² D / (k_B T), all SI: D in m²/s, n in m⁻³ → σ in S/m."""
    return (
        density_m3
        * charge**2
        * units.ELEMENTARY_CHARGE_C**2
        * diffusivity_m2_s
        / (units.BOLTZMANN_J_K * temperature_K)
    )


def conductivity_mS_cm(
    diffusivity_cm2_s: float, density_cm3: float, temperature_K: float, charge: float = 1.0
) -> float:
    """Nernst–Einstein σ in mS/cm from D in cm²/s and n in cm⁻³ (converted to SI and back).

    With D_total this is the correlated conductivity; with D_self the uncorrelated one
    (σ_self = H_R σ).
    """
    sigma_S_m = nernst_einstein_S_m(
        diffusivity_cm2_s / units.CM2_PER_M2,
        density_cm3 / units.M3_PER_CM3,
        temperature_K,
        charge,
    )
    return sigma_S_m * units.MS_CM_PER_S_M


def fit_diffusivity_cm2_s(
    time_ps: np.ndarray, msd_A2: np.ndarray, window_ps: tuple[float, float], dimensions: int = 3
) -> float:
    """D = slope / (2d) of a straight line (with intercept) fitted to MSD(t) in the window.

    The intercept absorbs the ballistic/vibrational offset. Returns D in cm²/s.
    """
    inside = (time_ps >= window_ps[0]) & (time_ps <= window_ps[1])
    slope_A2_ps = np.polyfit(time_ps[inside], msd_A2[inside], 1)[0]
    return float(slope_A2_ps / (2 * dimensions) * units.M2_S_PER_A2_PS * units.CM2_PER_M2)


@dataclass(frozen=True, kw_only=True)
class TransportResult(TransportNumbers):
    """Transport coefficients of one run at one temperature (see module docstring for errors):
    the reported numbers and the per-axis D, block values and MSD they came from.

    ``conductivity_mS_cm`` is the correlated Nernst–Einstein σ from D_total;
    ``conductivity_self_mS_cm`` the uncorrelated one from D_self. ``msd_exponent_*`` is
    d ln MSD / d ln t over the window and ``diffusive`` says whether both lie within the
    tolerance of 1. ``reference_frame`` is the frame the displacements are measured in (host
    centre of mass, or the simulation box).
    """

    D_self_components_cm2_s: tuple[float, float, float]
    block_D_self_cm2_s: np.ndarray
    block_D_total_cm2_s: np.ndarray
    msd: MSD = field(repr=False)
    warnings: tuple[str, ...] = ()


def block_fit_window(
    n_frames: int,
    n_blocks: int,
    frame_interval_ps: float,
    fit_window_ps: tuple[float, float] | None = None,
    fit_fraction: tuple[float, float] = DEFAULT_FIT_FRACTION,
) -> tuple[int, tuple[float, float]]:
    """Frames per block and the fit window, ps; ValueError when they cannot give a fit.

    Each of the ``n_blocks`` blocks needs :data:`MIN_FRAMES_PER_BLOCK` frames, and the
    window (default ``fit_fraction`` of a block's duration) ≥ 3 lags inside one block.
    Study specs are checked with it at submit, from their ML-MD settings.
    """
    block_len = n_frames // n_blocks
    if block_len < MIN_FRAMES_PER_BLOCK:
        raise ValueError(
            f"{n_frames} frames make {n_blocks} blocks of {block_len} frame(s); each needs "
            f"at least {MIN_FRAMES_PER_BLOCK}: the run is too short for so many blocks"
        )
    block_ps = (block_len - 1) * frame_interval_ps
    window = (
        (fit_fraction[0] * block_ps, fit_fraction[1] * block_ps)
        if fit_window_ps is None
        else (float(fit_window_ps[0]), float(fit_window_ps[1]))
    )
    lags_ps = np.arange(block_len) * frame_interval_ps
    lags_in_window = np.count_nonzero((lags_ps >= window[0]) & (lags_ps <= window[1]))
    if lags_in_window < 3 or window[1] > block_ps:
        raise ValueError(
            f"fit window {window[0]:g}–{window[1]:g} ps needs ≥ 3 frames inside one of "
            f"{n_blocks} blocks of {block_ps:g} ps ({n_frames} frames): the run is too short"
        )
    return block_len, window


def check_run_settings(n_blocks: int, frame_interval_ps: float, temperature_K: float) -> None:
    """ValueError for settings that give no error bar or no physical run."""
    if n_blocks < 2:
        raise ValueError("n_blocks must be at least 2 for an error bar")
    if not (np.isfinite(frame_interval_ps) and frame_interval_ps > 0):
        raise ValueError(f"frame interval {frame_interval_ps:g} ps: must be a number above 0")
    if not (np.isfinite(temperature_K) and temperature_K > 0):
        raise ValueError(f"temperature {temperature_K:g} K: must be a number above 0")


def block_diffusivities_cm2_s(
    positions_A: np.ndarray,
    n_blocks: int,
    block_len: int,
    frame_interval_ps: float,
    window_ps: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """D_self and D_total of each of ``n_blocks`` consecutive blocks of ``block_len`` frames,
    cm²/s: each block's own MSD over its own time origins, fitted over the same window."""
    block_time = np.arange(block_len) * frame_interval_ps
    block_self = np.empty(n_blocks)
    block_total = np.empty(n_blocks)
    for b in range(n_blocks):
        s, t = msd_self_and_total(positions_A[b * block_len : (b + 1) * block_len])
        block_self[b] = fit_diffusivity_cm2_s(block_time, s.sum(axis=1), window_ps)
        block_total[b] = fit_diffusivity_cm2_s(block_time, t.sum(axis=1), window_ps)
    return block_self, block_total


def block_stderr(block_values: np.ndarray) -> float:
    """Standard error of a whole-run value from its independent block values: their standard
    deviation / √n_blocks."""
    return float(np.std(block_values, ddof=1) / np.sqrt(len(block_values)))


def haven_ratio_jackknife(
    d_self: float, d_total: float, block_self: np.ndarray, block_total: np.ndarray
) -> tuple[float, float]:
    """H_R = D_self / D_total and the standard error of the delete-one-block jackknife of the
    ratio of block means (which keeps the D_self–D_total correlation); NaN, NaN when D_total
    is not positive."""
    if not d_total > 0:
        return float("nan"), float("nan")
    n_blocks = len(block_self)
    leave_one_out = np.array(
        [
            np.delete(block_self, b).mean() / np.delete(block_total, b).mean()
            for b in range(n_blocks)
        ]
    )
    spread = np.sum((leave_one_out - leave_one_out.mean()) ** 2)
    return d_self / d_total, float(np.sqrt((n_blocks - 1) / n_blocks * spread))


def axis_diffusivities_cm2_s(
    msd: MSD, window_ps: tuple[float, float]
) -> tuple[float, float, float]:
    """D_self along x, y and z (one-dimensional fits of the self MSD components), cm²/s."""
    x, y, z = (
        fit_diffusivity_cm2_s(msd.time_ps, msd.self_A2[:, k], window_ps, dimensions=1)
        for k in range(3)
    )
    return x, y, z


def msd_exponents(msd: MSD, window_ps: tuple[float, float]) -> tuple[float, float]:
    """:func:`msd_exponent` of the self and of the collective MSD over the window."""
    return (
        msd_exponent(msd.time_ps, msd.self_sum_A2, window_ps),
        msd_exponent(msd.time_ps, msd.total_sum_A2, window_ps),
    )


def diffusion_notes(
    msd: MSD,
    window_ps: tuple[float, float],
    d_total: float,
    exponents: tuple[float, float],
    min_msd_A2: float,
    max_exponent_deviation: float,
) -> list[str]:
    """What makes a run's numbers unreliable: no Haven ratio, ions that hardly left their sites
    by the window's end, or a window that is not diffusive (an exponent off 1)."""
    notes = []
    if not d_total > 0:
        notes.append(f"D_total = {d_total:.3g} cm^2/s is not positive: no Haven ratio")
    end_msd = float(np.interp(window_ps[1], msd.time_ps, msd.self_sum_A2))
    if end_msd < min_msd_A2:
        notes.append(
            f"self MSD at the fit-window end is {end_msd:.2f} Å^2 (< {min_msd_A2:g}): the run is "
            "probably too short or too cold to be diffusive"
        )
    off = [
        f"{kind} {a:.2f}"
        for kind, a in zip(("self", "total"), exponents, strict=True)
        if not abs(a - 1) <= max_exponent_deviation
    ]
    if off:
        notes.append(
            f"MSD exponent d ln MSD/d ln t over the fit window is {', '.join(off)} (diffusion: "
            f"1 ± {max_exponent_deviation:g}): the window is not diffusive, D is not reliable"
        )
    return notes


def mobile_density_cm3(n_mobile: int, volume_A3: float) -> float:
    """Number density of ``n_mobile`` ions in a cell of ``volume_A3``, cm⁻³."""
    return n_mobile / (volume_A3 * (units.M_PER_A**3) / units.M3_PER_CM3)


def analyze_transport(
    positions_A: np.ndarray,
    frame_interval_ps: float,
    volume_A3: float,
    temperature_K: float,
    charge: float = 1.0,
    n_blocks: int = DEFAULT_N_BLOCKS,
    fit_window_ps: tuple[float, float] | None = None,
    fit_fraction: tuple[float, float] = DEFAULT_FIT_FRACTION,
    direction: np.ndarray | None = None,
    min_msd_A2: float = MIN_DIFFUSIVE_MSD_A2,
    max_exponent_deviation: float = DEFAULT_MAX_EXPONENT_DEVIATION,
) -> TransportResult:
    """D_self, D_total, H_R and Nernst–Einstein σ with block-jackknife standard errors.

    Parameters
    ----------
    positions_A
        Unwrapped (drift-corrected) positions of the mobile ions, shape (T, N, 3), Å.
    frame_interval_ps, volume_A3, temperature_K
        Time between frames, cell volume (number density n = N / V), simulation temperature.
    charge
        Charge number z of the mobile ion.
    n_blocks
        Number of time blocks for the error bars (≥ 2).
    fit_window_ps, fit_fraction
        Lag-time window of the linear fits, inside one block; default ``fit_fraction`` × one
        block's duration.
    direction
        Optional vector: the MSD along it is computed too (``result.msd.*_along_A2``).
    min_msd_A2
        Warn (`TransportWarning`) when the self MSD at the window end is below this.
    max_exponent_deviation
        Flag (``diffusive=False``) and warn when the self or collective MSD exponent over the
        window differs from 1 by more than this.
    """
    n_frames, n_mobile, _ = positions_A.shape
    check_run_settings(n_blocks, frame_interval_ps, temperature_K)
    block_len, window = block_fit_window(
        n_frames, n_blocks, frame_interval_ps, fit_window_ps, fit_fraction
    )
    msd = compute_msd(positions_A, frame_interval_ps, direction)
    d_self = fit_diffusivity_cm2_s(msd.time_ps, msd.self_sum_A2, window)
    d_total = fit_diffusivity_cm2_s(msd.time_ps, msd.total_sum_A2, window)
    blocks = block_diffusivities_cm2_s(positions_A, n_blocks, block_len, frame_interval_ps, window)
    d_self_err, d_total_err = block_stderr(blocks[0]), block_stderr(blocks[1])
    exponents = msd_exponents(msd, window)
    notes = diffusion_notes(msd, window, d_total, exponents, min_msd_A2, max_exponent_deviation)
    for note in notes:
        warnings.warn(note, TransportWarning, stacklevel=2)
    density_cm3 = mobile_density_cm3(n_mobile, volume_A3)
    per_D = conductivity_mS_cm(1.0, density_cm3, temperature_K, charge)
    haven, haven_err = haven_ratio_jackknife(d_self, d_total, *blocks)
    dof = n_blocks - 1
    return TransportResult(
        D_self_cm2_s=d_self,
        D_self_stderr_cm2_s=d_self_err,
        D_total_cm2_s=d_total,
        D_total_stderr_cm2_s=d_total_err,
        haven_ratio=haven,
        haven_ratio_stderr=haven_err,
        conductivity_mS_cm=per_D * d_total,
        conductivity_stderr_mS_cm=per_D * d_total_err,
        conductivity_self_mS_cm=per_D * d_self,
        conductivity_self_stderr_mS_cm=per_D * d_self_err,
        n_mobile=n_mobile,
        mobile_density_cm3=density_cm3,
        temperature_K=float(temperature_K),
        fit_window_ps=window,
        n_frames=n_frames,
        n_blocks=n_blocks,
        stderr_dof=dof,
        D_self_interval_cm2_s=student_t_interval(d_self, d_self_err, dof),
        D_total_interval_cm2_s=student_t_interval(d_total, d_total_err, dof),
        conductivity_interval_mS_cm=student_t_interval(per_D * d_total, per_D * d_total_err, dof),
        msd_exponent_self=exponents[0],
        msd_exponent_total=exponents[1],
        diffusive=all(abs(a - 1) <= max_exponent_deviation for a in exponents),
        D_self_components_cm2_s=axis_diffusivities_cm2_s(msd, window),
        block_D_self_cm2_s=blocks[0],
        block_D_total_cm2_s=blocks[1],
        msd=msd,
        warnings=tuple(notes),
    )


def analyze_trajectory(
    trajectory: MobileTrajectory, temperature_K: float, time_step_fs: float, **kwargs: object
) -> TransportResult:
    """`analyze_transport` on a `MobileTrajectory`; frame interval = step spacing × timestep.

    Keyword arguments go to `analyze_transport`.
    """
    steps = trajectory.steps
    spacing = int(steps[1] - steps[0]) if len(steps) > 1 else 1
    interval_ps = spacing * time_step_fs * units.S_PER_FS / units.S_PER_PS
    result = analyze_transport(
        trajectory.positions_A,
        interval_ps,
        trajectory.volume_A3,
        temperature_K,
        **kwargs,  # type: ignore[arg-type]
    )
    return replace(result, reference_frame=trajectory.reference_frame)
