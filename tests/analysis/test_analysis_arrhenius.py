"""Arrhenius fits against a known Ea and against pymatgen-analysis-diffusion's fit."""

from __future__ import annotations

import numpy as np
import pytest

from litcl_flows.analysis.arrhenius import fit_arrhenius

K_EV = 8.617333262e-5
T = np.array([298.0, 313.0, 328.0, 333.0, 358.0, 373.0])


def test_unweighted_fit_matches_pymatgen() -> None:
    from pymatgen.analysis.diffusion.analyzer import fit_arrhenius as pmg_fit

    sigma = 1e3 * np.exp(-0.3 / (K_EV * T)) * np.exp(np.random.default_rng(0).normal(0, 0.1, 6))
    ours = fit_arrhenius(T, sigma)
    ea, prefactor, ea_err = pmg_fit(T, sigma)
    assert ours.activation_energy_eV == pytest.approx(ea, rel=1e-10)
    assert ours.prefactor == pytest.approx(prefactor, rel=1e-8)
    assert ours.activation_energy_stderr_eV == pytest.approx(ea_err, rel=1e-8)


def test_weighted_fit_recovers_ea_within_its_error() -> None:
    rng = np.random.default_rng(1)
    exact = 50.0 * np.exp(-0.29 / (K_EV * T))
    err = 0.05 * exact
    fit = fit_arrhenius(T, exact * np.exp(rng.normal(0, 0.05, 6)), err)
    assert abs(fit.activation_energy_eV - 0.29) < 3 * fit.activation_energy_stderr_eV
    assert 0.002 < fit.activation_energy_stderr_eV < 0.03
    truth_298 = 50.0 * np.exp(-0.29 / (K_EV * 298.15))
    lo, hi = fit.conductivity_extrapolated_interval_mS_cm
    assert lo < truth_298 < hi
    # A point with a huge error bar barely moves a weighted fit.
    outlier = exact.copy()
    outlier[0] *= 10
    err_out = err.copy()
    err_out[0] = 1e3 * outlier[0]
    assert fit_arrhenius(T, outlier, err_out).activation_energy_eV == pytest.approx(0.29, abs=1e-3)


def test_sigma_t_form_exact() -> None:
    fit = fit_arrhenius(T, 4e5 / T * np.exp(-0.25 / (K_EV * T)), form="sigma_T")
    assert fit.activation_energy_eV == pytest.approx(0.25, rel=1e-10)
    assert fit.prefactor == pytest.approx(4e5, rel=1e-8)
    assert fit.predict_mS_cm(np.array(400.0)) == pytest.approx(
        4e5 / 400 * np.exp(-0.25 / (K_EV * 400))
    )


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="positive"):
        fit_arrhenius(T, np.r_[-1.0, np.ones(5)])
    with pytest.raises(ValueError, match="needs at least 3"):
        fit_arrhenius(T[:2], np.ones(2))
    with pytest.raises(ValueError, match="1 distinct temperature"):
        fit_arrhenius(np.full(3, 600.0), np.ones(3))
