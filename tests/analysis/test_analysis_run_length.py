"""The run-length stopping rule on lattice hoppers whose D is known by construction."""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from litcl_flows.analysis.run_length import RunLengthTarget, run_length_verdict
from litcl_flows.analysis.transport import TransportResult, analyze_transport

FRAME_PS = 0.1
HOP_A = 3.0
CHUNK_FRAMES = 500
VOLUME_A3 = 24.0**3


def lattice_hoppers(
    n_ions: int, n_frames: int, hop_rate_per_ps: float, vibration_A: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Independent ions hopping on a cubic lattice (spacing HOP_A) and vibrating about their site.

    Each frame an ion hops with probability rate × Δt to one of its six neighbours, so
    MSD(t) = rate · a² · t + 6 σ_vib² and D = rate · a² / 6 exactly. Returns the positions
    (T, N, 3) in Å and each ion's cumulative hop count per frame (T, N).
    """
    rng = np.random.default_rng(seed)
    hops = rng.random((n_frames - 1, n_ions)) < hop_rate_per_ps * FRAME_PS
    directions = np.vstack([np.eye(3), -np.eye(3)]) * HOP_A
    steps = directions[rng.integers(0, 6, hops.shape)] * hops[..., None]
    sites = np.concatenate([np.zeros((1, n_ions, 3)), np.cumsum(steps, axis=0)])
    positions = sites + rng.normal(0.0, vibration_A, (n_frames, n_ions, 3))
    counts = np.concatenate([np.zeros((1, n_ions)), np.cumsum(hops, axis=0)])
    return positions, counts


def true_D_cm2_s(hop_rate_per_ps: float) -> float:
    return hop_rate_per_ps * HOP_A**2 / 6 * 1e-4  # Å²/ps → cm²/s


def chunked_verdicts(positions, counts, target, fit_window_ps):
    """Analyse the run after each chunk, as the ML-MD does, until the rule stops it."""
    verdicts = []
    for end in range(CHUNK_FRAMES + 1, len(positions) + 1, CHUNK_FRAMES):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = analyze_transport(
                positions[:end], FRAME_PS, VOLUME_A3, 600.0, fit_window_ps=fit_window_ps
            )
        verdict = run_length_verdict(
            result, float(counts[end - 1].mean()), (end - 1) * FRAME_PS, target
        )
        verdicts.append((result, verdict))
        if verdict.stop:
            break
    return verdicts


@pytest.mark.parametrize("seed", range(4))
def test_stops_once_the_error_meets_the_target_and_not_before(seed: int) -> None:
    rate = 0.5  # 25 hops per ion per chunk; MSD exponent ≈ 1 over 2–8 ps
    positions, counts = lattice_hoppers(16, 20 * CHUNK_FRAMES + 1, rate, 0.3, seed)
    target = RunLengthTarget(rel_stderr_D_self=0.05)
    verdicts = chunked_verdicts(positions, counts, target, (2.0, 8.0))
    result, last = verdicts[-1]
    assert last.reason == "converged"
    assert last.rel_stderr_D_self <= 0.05
    for _, earlier in verdicts[:-1]:
        assert earlier.reason == "continue"
        # the error was the only criterion missed: the rule did not wait for anything else
        assert earlier.rel_stderr_D_self > 0.05
        assert earlier.explanation.count(";") == 0 and "D_self error" in earlier.explanation
    # The analytic D lies in the stopped run's 95 % interval (4 degrees of freedom).
    t95 = stats.t.ppf(0.975, result.n_blocks - 1)
    relative_error = abs(result.D_self_cm2_s / true_D_cm2_s(rate) - 1)
    assert relative_error <= t95 * last.rel_stderr_D_self


def test_does_not_stop_on_a_lucky_early_estimate() -> None:
    """Rare hops and vibration: after 150 ps the blocks agree to 2.5 % while D is 13 % high.

    A rule on the error alone stops there, with a 95 % interval that misses the analytic D;
    the MSD exponent (0.45: vibration still dominates the 1–5 ps window) keeps this one
    going, and the run ends at its maximum length.
    """
    rate = 0.05
    positions, counts = lattice_hoppers(16, 6 * CHUNK_FRAMES + 1, rate, 0.5, seed=2)
    target = RunLengthTarget(rel_stderr_D_self=0.1, max_length_ps=300.0)
    verdicts = chunked_verdicts(positions, counts, target, (1.0, 5.0))
    naive_stop = next(
        (result, verdict) for result, verdict in verdicts if verdict.rel_stderr_D_self <= 0.1
    )
    result, verdict = naive_stop
    t95 = stats.t.ppf(0.975, result.n_blocks - 1)
    assert abs(result.D_self_cm2_s / true_D_cm2_s(rate) - 1) > t95 * verdict.rel_stderr_D_self
    assert verdict.reason == "continue"
    assert "MSD exponent" in verdict.explanation
    assert [v.reason for _, v in verdicts][-1] == "max_length"
    assert len(verdicts) == 6


@pytest.fixture(scope="module")
def diffusive_result() -> TransportResult:
    positions, _ = lattice_hoppers(16, 2001, 0.5, 0.3, seed=0)
    return analyze_transport(positions, FRAME_PS, VOLUME_A3, 600.0, fit_window_ps=(2.0, 8.0))


def test_too_few_hops_keep_a_converged_error_running(diffusive_result: TransportResult) -> None:
    target = RunLengthTarget(rel_stderr_D_self=1.0, min_hops_per_ion=5.0)
    verdict = run_length_verdict(diffusive_result, 4.0, 200.0, target)
    assert verdict.reason == "continue"
    assert "4.0 hops per ion < 5" in verdict.explanation
    assert run_length_verdict(diffusive_result, 5.0, 200.0, target).reason == "converged"


def test_conductivity_target_and_projection(diffusive_result: TransportResult) -> None:
    rel_D = diffusive_result.D_self_stderr_cm2_s / diffusive_result.D_self_cm2_s
    rel_sigma = diffusive_result.conductivity_stderr_mS_cm / diffusive_result.conductivity_mS_cm
    target = RunLengthTarget(rel_stderr_D_self=rel_D * 1.01, rel_stderr_conductivity=rel_sigma / 2)
    verdict = run_length_verdict(diffusive_result, 50.0, 200.0, target)
    assert verdict.reason == "continue" and "σ error" in verdict.explanation
    # errors fall as 1/√t: halving σ's error takes four times the length
    assert verdict.projected_length_ps == pytest.approx(800.0)


def test_non_positive_D_never_converges(diffusive_result: TransportResult) -> None:
    stuck = dataclasses.replace(diffusive_result, D_self_cm2_s=-1e-9)
    verdict = run_length_verdict(stuck, 50.0, 100.0, RunLengthTarget(max_length_ps=100.0))
    assert verdict.reason == "max_length"
    assert math.isinf(verdict.rel_stderr_D_self) and math.isinf(verdict.projected_length_ps)
    assert "undefined" in verdict.explanation


@pytest.mark.parametrize(
    "field, value",
    [
        ("rel_stderr_D_self", 0.0),
        ("rel_stderr_conductivity", -0.1),
        ("max_exponent_deviation", float("nan")),
        ("min_hops_per_ion", -1.0),
        ("max_length_ps", 0.0),
    ],
)
def test_impossible_targets_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        RunLengthTarget(**{field: value})
