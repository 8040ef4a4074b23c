"""The local MSD exponent over the fit window (issue 15, item 10), against analytic MSDs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from litcl_flows.analysis.trajectory import TransportWarning
from litcl_flows.analysis.transport import analyze_transport, msd_exponent


def test_exponent_of_power_laws_is_their_power() -> None:
    t = np.linspace(0, 2, 201)
    for power in (0.5, 1.0, 2.0):
        assert msd_exponent(t, 3.0 * t**power, (0.2, 1.0)) == pytest.approx(power, abs=1e-12)
    # no positive MSD in the window: no exponent
    assert np.isnan(msd_exponent(t, np.zeros_like(t), (0.2, 1.0)))


def test_ballistic_ions_are_flagged_not_diffusive() -> None:
    # Every ion flies straight: MSD_self = <v²> t² and MSD_total = |Σv|² t² / N, exponent 2.
    rng = np.random.default_rng(0)
    velocity = rng.normal(0, 1, (20, 3))
    time_ps = np.arange(400) * 0.01
    positions = time_ps[:, None, None] * velocity[None]
    with pytest.warns(TransportWarning, match="not diffusive"):
        result = analyze_transport(positions, 0.01, 1000.0, 300.0, n_blocks=4, min_msd_A2=0)
    assert result.msd_exponent_self == pytest.approx(2.0, abs=1e-9)
    assert result.msd_exponent_total == pytest.approx(2.0, abs=1e-9)
    assert not result.diffusive


def test_cage_offset_lowers_the_exponent_as_the_analytic_model_says() -> None:
    # Brownian walk (D = 0.05 Å²/ps) seen through a thermal rattle of 0.3 Å per component:
    # MSD(t) = 6 D t + 6 × 0.3² on average, whose log-log slope over the window is below 1.
    rng = np.random.default_rng(2)
    n_frames, n_ions, dt_ps, d_A2_ps, rattle_A = 2000, 400, 0.01, 0.05, 0.3
    walk = np.cumsum(rng.normal(0, np.sqrt(2 * d_A2_ps * dt_ps), (n_frames, n_ions, 3)), axis=0)
    positions = walk + rng.normal(0, rattle_A, walk.shape)
    window = (0.5, 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransportWarning)
        result = analyze_transport(
            positions, dt_ps, 1000.0, 300.0, n_blocks=4, fit_window_ps=window
        )
    lags = np.arange(n_frames) * dt_ps
    inside = (lags >= window[0]) & (lags <= window[1])
    model = 6 * d_A2_ps * lags[inside] + 6 * rattle_A**2
    expected = np.polyfit(np.log(lags[inside]), np.log(model), 1)[0]  # ≈ 0.37
    assert expected == pytest.approx(0.374, abs=0.001)
    assert result.msd_exponent_self == pytest.approx(expected, abs=0.03)
    assert not result.diffusive
    # A plain Brownian walk in the same window is diffusive.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransportWarning)
        plain = analyze_transport(walk, dt_ps, 1000.0, 300.0, n_blocks=4, fit_window_ps=window)
    assert plain.msd_exponent_self == pytest.approx(1.0, abs=0.03)
    assert plain.diffusive
