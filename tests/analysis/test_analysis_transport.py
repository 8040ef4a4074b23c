"""MSD, diffusion coefficients, Haven ratio and Nernst–Einstein σ against independent truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from litcl_flows.analysis import units
from litcl_flows.analysis.msd import compute_msd, fft_length, msd_fft, msd_self_and_total
from litcl_flows.analysis.synthetic import pair_walk
from litcl_flows.analysis.trajectory import TransportWarning, collect_mobile
from litcl_flows.analysis.transport import (
    analyze_transport,
    conductivity_mS_cm,
    fit_diffusivity_cm2_s,
)
from litcl_flows.analysis.transport_numbers import JSON_KEYS
from litcl_flows.io import Frame


def _direct_msd(x: np.ndarray) -> np.ndarray:
    """The O(T²) definition: average over every time origin."""
    return np.array([((x[m:] - x[: len(x) - m]) ** 2).mean(axis=0) for m in range(len(x))])


def test_fft_msd_equals_direct_average() -> None:
    x = np.random.default_rng(0).normal(size=(97, 5, 3)).cumsum(axis=0) + 40.0
    assert np.allclose(msd_fft(x), _direct_msd(x), atol=1e-9)
    msd_self, msd_total = msd_self_and_total(x)
    assert np.allclose(msd_self, _direct_msd(x).mean(axis=1), atol=1e-9)
    assert np.allclose(msd_total, _direct_msd(x.sum(axis=1)) / 5, atol=1e-9)


def test_fft_length_and_constants_match_scipy() -> None:
    # Written out so that `litcl analyze` need not import scipy.fft or scipy.constants.
    from scipy import constants
    from scipy.fft import next_fast_len

    assert [fft_length(n) for n in range(1, 3000)] == [
        next_fast_len(n, real=True) for n in range(1, 3000)
    ]
    assert fft_length(11_001) == next_fast_len(11_001, real=True)
    assert constants.e == units.ELEMENTARY_CHARGE_C
    assert constants.k == units.BOLTZMANN_J_K
    assert constants.k / constants.e == units.BOLTZMANN_EV_K


def test_msd_along_direction_and_distinct() -> None:
    x = np.random.default_rng(1).normal(size=(60, 4, 3)).cumsum(axis=0)
    msd = compute_msd(x, 0.5, direction=np.array([0.0, 0.0, 2.0]))
    assert np.allclose(msd.self_along_A2, msd.self_A2[:, 2])
    assert np.allclose(msd.total_along_A2, msd.total_A2[:, 2])
    assert np.allclose(msd.distinct_A2, msd.total_sum_A2 - msd.self_sum_A2)
    assert msd.time_ps[3] == 1.5


def test_ballistic_motion_gives_exact_slope() -> None:
    # x = v t: MSD = |v|² t², so a line fitted over t ∈ [1, 2] has slope 3|v|² exactly.
    t = np.arange(0, 301) * 0.01
    v = np.array([1.0, 2.0, 2.0])
    msd = msd_fft(t[:, None] * v[None, :]).sum(axis=1)
    assert np.allclose(msd, 9.0 * t**2)
    # 27 Å²/ps / 6 = 4.5 Å²/ps = 4.5e-4 cm²/s
    assert fit_diffusivity_cm2_s(t, msd, (1.0, 2.0)) == pytest.approx(4.5e-4, rel=1e-9)


def test_nernst_einstein_hand_calculation() -> None:
    # n = 1.46e22 cm⁻³ = 1.46e28 m⁻³, D = 1e-8 cm²/s = 1e-12 m²/s, T = 298.15 K, z = 1:
    # σ = n e² D / (k T) = 1.46e28 × (1.602176634e-19)² × 1e-12 / (1.380649e-23 × 298.15)
    #   = 0.091045 S/m = 0.91045 mS/cm (so 1 mS/cm needs D ≈ 1e-8 cm²/s, not 1.6e-14).
    hand = 1.46e28 * 1.602176634e-19**2 * 1e-12 / (1.380649e-23 * 298.15) * 10
    assert hand == pytest.approx(0.91045, rel=1e-4)
    assert conductivity_mS_cm(1e-8, 1.46e22, 298.15) == pytest.approx(hand, rel=1e-12)
    assert conductivity_mS_cm(1e-8, 1.46e22, 298.15, charge=2) == pytest.approx(4 * hand)


@pytest.mark.parametrize("haven", [14.0, 1.0])
def test_pair_walk_truth_recovered(haven: float) -> None:
    # 200 ions, 12,000 frames of 10 fs; D_self = 1e-5 cm²/s (0.1 Å²/ps).
    positions, truth = pair_walk(200, 12_000, 0.01, 1e-5, haven, seed=7)
    volume = 25.0**3
    with warnings.catch_warnings():
        warnings.simplefilter("error", TransportWarning)
        result = analyze_transport(positions, 0.01, volume, 600.0)
    # Self: 200 ions × many origins → within 3 % and within 4 standard errors.
    assert result.D_self_cm2_s == pytest.approx(truth.D_self_cm2_s, rel=0.03)
    assert abs(result.D_self_cm2_s - truth.D_self_cm2_s) < 4 * result.D_self_stderr_cm2_s
    # Collective: one sample per origin → only within 4 of its (much larger) standard errors.
    assert abs(result.D_total_cm2_s - truth.D_total_cm2_s) < 4 * result.D_total_stderr_cm2_s
    assert (
        result.D_total_stderr_cm2_s / result.D_total_cm2_s
        > 3 * result.D_self_stderr_cm2_s / result.D_self_cm2_s
    )
    assert abs(result.haven_ratio - truth.haven_ratio) < 4 * result.haven_ratio_stderr
    n_cm3 = 200 / (volume * 1e-24)
    assert result.mobile_density_cm3 == pytest.approx(n_cm3)
    assert result.conductivity_mS_cm == pytest.approx(
        conductivity_mS_cm(result.D_total_cm2_s, n_cm3, 600.0)
    )
    assert result.conductivity_self_mS_cm == pytest.approx(
        result.conductivity_mS_cm * result.haven_ratio
    )
    # Default window: 10–50 % of one of 5 blocks of 2,400 frames (23.99 ps).
    assert result.fit_window_ps == pytest.approx((2.399, 11.995))
    assert list(result.to_json_dict()) == list(JSON_KEYS)


def test_error_bars_cover_truth_over_seeds() -> None:
    # Calibration: over 20 independent runs about 68 % of 1σ intervals should contain the truth.
    hits_self = hits_total = 0
    for seed in range(20):
        positions, truth = pair_walk(40, 2_500, 0.01, 4e-5, 4.0, seed=seed)
        result = analyze_transport(positions, 0.01, 20.0**3, 500.0)
        hits_self += abs(result.D_self_cm2_s - truth.D_self_cm2_s) < result.D_self_stderr_cm2_s
        hits_total += abs(result.D_total_cm2_s - truth.D_total_cm2_s) < result.D_total_stderr_cm2_s
    assert 8 <= hits_self <= 20
    assert 8 <= hits_total <= 20


def test_short_run_warns_and_too_short_run_fails() -> None:
    positions, _ = pair_walk(10, 200, 0.001, 1e-6, 1.0, seed=2)
    with pytest.warns(TransportWarning, match="too short or too cold"):
        analyze_transport(positions, 0.001, 1000.0, 300.0)
    with pytest.raises(ValueError, match="too short"):
        analyze_transport(positions[:12], 0.001, 1000.0, 300.0)


def _frames(positions: np.ndarray, cell: np.ndarray, symbols: np.ndarray, wrap: bool):
    for step, pos in enumerate(positions):
        frac = pos @ np.linalg.inv(cell)
        shown = np.mod(frac, 1.0) @ cell if wrap else pos
        yield Frame(step * 5, cell, shown, symbols, not wrap)


def test_minimum_image_unwrapping_and_drift_correction_triclinic() -> None:
    rng = np.random.default_rng(4)
    cell = np.array([[8.0, 0.0, 0.0], [2.0, 7.0, 0.0], [-1.0, 1.5, 9.0]])
    n_frames = 300
    li = rng.uniform(0, 8, (1, 6, 3)) + rng.normal(0, 0.3, (n_frames, 6, 3)).cumsum(axis=0)
    host = rng.uniform(0, 8, (1, 10, 3)) + rng.normal(0, 0.05, (n_frames, 10, 3))
    drift = np.linspace(0, 1, n_frames)[:, None, None] * np.array([5.0, -3.0, 2.0])
    positions = np.concatenate([li, host], axis=1) + drift
    symbols = np.array(["Li"] * 6 + ["Cl"] * 10)
    wrapped = collect_mobile(_frames(positions, cell, symbols, wrap=True), "Li")
    unwrapped = collect_mobile(_frames(positions, cell, symbols, wrap=False), "Li")
    host_drift = host.mean(axis=1) - host[0].mean(axis=0) + drift[:, 0]
    expected = li + drift - host_drift[:, None, :]
    assert np.allclose(unwrapped.positions_A, expected)
    # Wrapped input, unwrapped by minimum image, gives the same continuous path (up to the
    # cell translation the first frame was wrapped by).
    shift = wrapped.positions_A[0] - expected[0]
    assert np.allclose(wrapped.positions_A, expected + shift)
    assert np.allclose(wrapped.drift_A, host_drift)
    assert wrapped.volume_A3 == pytest.approx(8 * 7 * 9)
    raw = collect_mobile(
        _frames(positions, cell, symbols, wrap=False), "Li", drift_correction=False
    )
    assert np.allclose(raw.positions_A, li + drift)


def test_coarse_frames_warn() -> None:
    cell = 5.0 * np.eye(3)
    positions = np.array([[[0.5, 0.5, 0.5]], [[2.0, 0.5, 0.5]]])
    frames = _frames(positions, cell, np.array(["Li"]), wrap=True)
    with pytest.warns(TransportWarning, match="frame 1 .* too far apart"):
        collect_mobile(frames, "Li")
