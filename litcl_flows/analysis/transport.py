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

#: Default fit window as fractions of one block's duration: skip the ballistic/vibrational
#: first 10 %, stop at half the block where the number of time origins is still large.
DEFAULT_FIT_FRACTION: tuple[float, float] = (0.1, 0.5)
DEFAULT_N_BLOCKS: int = 5
#: Below this self MSD (Å²) at the end of the fit window the ions have hardly left their
#: sites (a Li hop is ~2–3 Å, so one hop per ion gives ~4–9 Å²).
MIN_DIFFUSIVE_MSD_A2: float = 4.0
#: A fit window whose MSD exponent d ln MSD / d ln t lies further than this from 1 is flagged
#: as not diffusive (0.25: the vibrational offset is still over a quarter of the MSD).
DEFAULT_MAX_EXPONENT_DEVIATION: float = 0.25
#: Frames one block needs for a fit with an intercept over a window inside it.
MIN_FRAMES_PER_BLOCK: int = 4
#: Confidence level of every interval reported.
CONFIDENCE_LEVEL: float = 0.95

JSON_KEYS: tuple[str, ...] = (
    "D_self_cm2_s",
    "D_self_stderr_cm2_s",
    "D_total_cm2_s",
    "D_total_stderr_cm2_s",
    "haven_ratio",
    "haven_ratio_stderr",
    "conductivity_mS_cm",
    "conductivity_stderr_mS_cm",
    "n_mobile",
    "mobile_density_cm3",
    "temperature_K",
    "fit_window_ps",
    "n_frames",
    "n_blocks",
    "stderr_dof",
    "D_self_interval_cm2_s",
    "D_total_interval_cm2_s",
    "conductivity_interval_mS_cm",
    "msd_exponent_self",
    "msd_exponent_total",
    "diffusive",
    "reference_frame",
)


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


@dataclass(frozen=True)
class TransportResult:
    """Transport coefficients of one run at one temperature (see module docstring for errors).

    The JSON form (`to_json_dict`) holds exactly `JSON_KEYS`. ``conductivity_mS_cm`` is the
    correlated Nernst–Einstein σ from D_total; ``conductivity_self_mS_cm`` the uncorrelated one
    from D_self. ``fit_window_ps`` is the lag-time window of every linear fit. Standard errors
    have ``stderr_dof`` = n_blocks − 1 degrees of freedom; the ``*_interval_*`` pairs are 95 %
    Student-t intervals. ``msd_exponent_*`` is d ln MSD / d ln t over the window and
    ``diffusive`` says whether both lie within the tolerance of 1. ``reference_frame`` is the
    frame the displacements are measured in (host centre of mass, or the simulation box).
    """

    D_self_cm2_s: float
    D_self_stderr_cm2_s: float
    D_total_cm2_s: float
    D_total_stderr_cm2_s: float
    haven_ratio: float
    haven_ratio_stderr: float
    conductivity_mS_cm: float
    conductivity_stderr_mS_cm: float
    conductivity_self_mS_cm: float
    conductivity_self_stderr_mS_cm: float
    D_self_components_cm2_s: tuple[float, float, float]
    n_mobile: int
    mobile_density_cm3: float
    temperature_K: float
    fit_window_ps: tuple[float, float]
    n_frames: int
    n_blocks: int
    block_D_self_cm2_s: np.ndarray
    block_D_total_cm2_s: np.ndarray
    msd_exponent_self: float
    msd_exponent_total: float
    diffusive: bool
    msd: MSD = field(repr=False)
    warnings: tuple[str, ...] = ()
    reference_frame: str = "host centre of mass"

    @property
    def stderr_dof(self) -> int:
        """Degrees of freedom of every block standard error."""
        return self.n_blocks - 1

    def interval(self, value: float, stderr: float) -> tuple[float, float]:
        """95 % Student-t interval of a quantity of this run."""
        return student_t_interval(value, stderr, self.stderr_dof)

    @property
    def D_self_interval_cm2_s(self) -> tuple[float, float]:
        return self.interval(self.D_self_cm2_s, self.D_self_stderr_cm2_s)

    @property
    def D_total_interval_cm2_s(self) -> tuple[float, float]:
        return self.interval(self.D_total_cm2_s, self.D_total_stderr_cm2_s)

    @property
    def conductivity_interval_mS_cm(self) -> tuple[float, float]:
        return self.interval(self.conductivity_mS_cm, self.conductivity_stderr_mS_cm)

    def to_json_dict(self) -> dict[str, object]:
        """The result as the ``litcl analyze --json`` object (exactly `JSON_KEYS`)."""
        out: dict[str, object] = {key: getattr(self, key) for key in JSON_KEYS}
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = [float(v) for v in value]
        return out


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
    frame_interval_ps
        Time between frames.
    volume_A3
        Cell volume for the number density n = N / V.
    temperature_K
        Simulation temperature.
    charge
        Charge number z of the mobile ion.
    n_blocks
        Number of time blocks for the error bars (≥ 2).
    fit_window_ps
        Lag-time window of the linear fits; default ``fit_fraction`` × one block's duration.
        It must fit inside one block.
    fit_fraction
        Default window as fractions of the block duration.
    direction
        Optional vector: the MSD along it is computed too (``result.msd.*_along_A2``).
    min_msd_A2
        Warn (`TransportWarning`) when the self MSD at the window end is below this.
    max_exponent_deviation
        Flag (``diffusive=False``) and warn when the self or collective MSD exponent over the
        window differs from 1 by more than this.

    Returns
    -------
    TransportResult
    """
    n_frames, n_mobile, _ = positions_A.shape
    if n_blocks < 2:
        raise ValueError("n_blocks must be at least 2 for an error bar")
    if not (np.isfinite(frame_interval_ps) and frame_interval_ps > 0):
        raise ValueError(f"frame interval {frame_interval_ps:g} ps: must be a number above 0")
    if not (np.isfinite(temperature_K) and temperature_K > 0):
        raise ValueError(f"temperature {temperature_K:g} K: must be a number above 0")
    block_len, window = block_fit_window(
        n_frames, n_blocks, frame_interval_ps, fit_window_ps, fit_fraction
    )
    msd = compute_msd(positions_A, frame_interval_ps, direction)
    d_self = fit_diffusivity_cm2_s(msd.time_ps, msd.self_sum_A2, window)
    d_total = fit_diffusivity_cm2_s(msd.time_ps, msd.total_sum_A2, window)
    components = tuple(
        fit_diffusivity_cm2_s(msd.time_ps, msd.self_A2[:, k], window, dimensions=1)
        for k in range(3)
    )

    block_time = np.arange(block_len) * frame_interval_ps
    block_self = np.empty(n_blocks)
    block_total = np.empty(n_blocks)
    for b in range(n_blocks):
        s, t = msd_self_and_total(positions_A[b * block_len : (b + 1) * block_len])
        block_self[b] = fit_diffusivity_cm2_s(block_time, s.sum(axis=1), window)
        block_total[b] = fit_diffusivity_cm2_s(block_time, t.sum(axis=1), window)
    root_n = np.sqrt(n_blocks)
    d_self_err = float(np.std(block_self, ddof=1) / root_n)
    d_total_err = float(np.std(block_total, ddof=1) / root_n)

    notes: list[str] = []
    haven, haven_err = float("nan"), float("nan")
    if d_total > 0:
        haven = d_self / d_total
        leave_one_out = np.array(
            [
                np.delete(block_self, b).mean() / np.delete(block_total, b).mean()
                for b in range(n_blocks)
            ]
        )
        haven_err = float(
            np.sqrt((n_blocks - 1) / n_blocks * np.sum((leave_one_out - leave_one_out.mean()) ** 2))
        )
    else:
        notes.append(f"D_total = {d_total:.3g} cm^2/s is not positive: no Haven ratio")
    end_msd = float(np.interp(window[1], msd.time_ps, msd.self_sum_A2))
    if end_msd < min_msd_A2:
        notes.append(
            f"self MSD at the fit-window end is {end_msd:.2f} Å^2 (< {min_msd_A2:g}): the run is "
            "probably too short or too cold to be diffusive"
        )
    exponents = {
        kind: msd_exponent(msd.time_ps, values, window)
        for kind, values in (("self", msd.self_sum_A2), ("total", msd.total_sum_A2))
    }
    off = {k: a for k, a in exponents.items() if not abs(a - 1) <= max_exponent_deviation}
    if off:
        listed = ", ".join(f"{k} {a:.2f}" for k, a in off.items())
        notes.append(
            f"MSD exponent d ln MSD/d ln t over the fit window is {listed} (diffusion: 1 ± "
            f"{max_exponent_deviation:g}): the window is not diffusive, D is not reliable"
        )
    for note in notes:
        warnings.warn(note, TransportWarning, stacklevel=2)

    density_cm3 = n_mobile / (volume_A3 * (units.M_PER_A**3) / units.M3_PER_CM3)
    per_D = conductivity_mS_cm(1.0, density_cm3, temperature_K, charge)
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
        D_self_components_cm2_s=components,  # type: ignore[arg-type]
        n_mobile=n_mobile,
        mobile_density_cm3=density_cm3,
        temperature_K=float(temperature_K),
        fit_window_ps=window,
        n_frames=n_frames,
        n_blocks=n_blocks,
        block_D_self_cm2_s=block_self,
        block_D_total_cm2_s=block_total,
        msd_exponent_self=exponents["self"],
        msd_exponent_total=exponents["total"],
        diffusive=not off,
        msd=msd,
        warnings=tuple(notes),
    )


def analyze_trajectory(
    trajectory: MobileTrajectory, temperature_K: float, timestep_fs: float, **kwargs: object
) -> TransportResult:
    """`analyze_transport` on a `MobileTrajectory`; frame interval = step spacing × timestep.

    Keyword arguments go to `analyze_transport`.
    """
    steps = trajectory.steps
    spacing = int(steps[1] - steps[0]) if len(steps) > 1 else 1
    interval_ps = spacing * timestep_fs * units.S_PER_FS / units.S_PER_PS
    result = analyze_transport(
        trajectory.positions_A,
        interval_ps,
        trajectory.volume_A3,
        temperature_K,
        **kwargs,  # type: ignore[arg-type]
    )
    return replace(result, reference_frame=trajectory.reference_frame)
