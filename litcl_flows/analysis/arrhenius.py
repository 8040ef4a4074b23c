"""Arrhenius fits of conductivity over temperature, weighted by the error bars.

Two forms, both offered because the literature uses both and they give different Ea:
``"sigma"``: σ = σ0 exp(−Ea / k_B T), fitting ln σ vs 1/T;
``"sigma_T"``: σT = A exp(−Ea / k_B T), fitting ln(σT) vs 1/T (common in solid-state ionics).

With error bars the fit is a weighted nonlinear least squares of σ itself: block estimates of
σ scatter like a Gaussian in σ, not in ln σ, and a cold run whose σ came out ≤ 0 (noise larger
than the signal) is a measurement like any other. A log fit must drop it, which keeps only the
upward fluctuations at low T and biases Ea low; here it stays in the fit, and the caller
reports it as an upper limit (:func:`upper_limit_mS_cm`). Without error bars ln σ is fitted by
ordinary least squares, as pymatgen-analysis-diffusion's ``fit_arrhenius`` does (its fit is
unweighted and has no interval, hence this module). Intervals are 95 % confidence intervals
of the fitted curve (not prediction intervals for a new run), with Student-t quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import optimize, special

from litcl_flows.analysis import units

ArrheniusForm = Literal["sigma", "sigma_T"]
ROOM_TEMPERATURE_K: float = 298.15
#: Distinct temperatures a fit needs: two points fix the line, a third measures its scatter.
MIN_TEMPERATURES: int = 3


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of `fit_arrhenius`.

    Attributes
    ----------
    form
        ``"sigma"`` or ``"sigma_T"`` (see module docstring).
    activation_energy_eV, activation_energy_stderr_eV
        Ea and its standard error.
    prefactor
        σ0 in mS/cm (form ``sigma``) or A in mS·K/cm (form ``sigma_T``).
    extrapolation_K
        Temperature of the extrapolation (default 298.15 K).
    error_dof
        Degrees of freedom of the error bars (None: treated as exact).
    conductivity_extrapolated_mS_cm
        σ at ``extrapolation_K`` from the fit.
    conductivity_extrapolated_interval_mS_cm
        95 % confidence interval of that σ: Student t with n − 2 degrees of freedom when the
        scatter sets the scale, with the error bars' own degrees of freedom (``error_dof``)
        when they do (normal only when the error bars are exact).
    """

    form: ArrheniusForm
    activation_energy_eV: float
    activation_energy_stderr_eV: float
    prefactor: float
    extrapolation_K: float
    conductivity_extrapolated_mS_cm: float
    conductivity_extrapolated_interval_mS_cm: tuple[float, float]
    temperature_K: np.ndarray
    conductivity_mS_cm: np.ndarray
    conductivity_stderr_mS_cm: np.ndarray | None
    error_dof: int | None
    _coefficients: np.ndarray
    _covariance: np.ndarray
    _quantile: float

    def predict_mS_cm(self, temperature_K: np.ndarray) -> np.ndarray:
        """σ(T) from the fit."""
        t = np.asarray(temperature_K, dtype=np.float64)
        y = self._coefficients[0] + self._coefficients[1] / t
        return np.exp(y) / (t if self.form == "sigma_T" else 1.0)

    def interval_mS_cm(self, temperature_K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """95 % confidence band of the fitted σ(T)."""
        t = np.asarray(temperature_K, dtype=np.float64)
        design = np.stack([np.ones_like(t), 1.0 / t], axis=-1)
        half = self._quantile * np.sqrt(np.einsum("...i,ij,...j", design, self._covariance, design))
        centre = self.predict_mS_cm(t)
        return centre * np.exp(-half), centre * np.exp(half)

    def to_json_dict(self) -> dict[str, object]:
        lo, hi = self.conductivity_extrapolated_interval_mS_cm
        at_room = self.extrapolation_K == ROOM_TEMPERATURE_K
        key = "conductivity_298K_mS_cm" if at_room else "conductivity_extrapolated_mS_cm"
        return {
            "form": self.form,
            "activation_energy_eV": self.activation_energy_eV,
            "activation_energy_stderr_eV": self.activation_energy_stderr_eV,
            "prefactor": self.prefactor,
            "prefactor_unit": "mS/cm" if self.form == "sigma" else "mS K/cm",
            "extrapolation_K": self.extrapolation_K,
            key: self.conductivity_extrapolated_mS_cm,
            "conductivity_interval_mS_cm": [lo, hi],
            "temperature_K": self.temperature_K.tolist(),
        }


def upper_limit_mS_cm(
    conductivity_mS_cm: float, stderr_mS_cm: float, dof: int, level: float = 0.95
) -> float:
    """One-sided upper limit σ + t(level, dof) × stderr, for a σ that came out ≤ 0."""
    return float(conductivity_mS_cm + special.stdtrit(dof, level) * stderr_mS_cm)


def _log_fit(
    design: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted linear least squares: coefficients, inverse normal matrix, χ²."""
    normal = design.T @ (design * weights[:, None])
    coefficients = np.linalg.solve(normal, design.T @ (weights * y))
    chi2 = float(np.sum(weights * (y - design @ coefficients) ** 2))
    return coefficients, np.linalg.inv(normal), chi2


def _linear_space_fit(
    inverse_t: np.ndarray, sigma: np.ndarray, err: np.ndarray, power_of_t: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted nonlinear least squares of σ = exp(a + b/T) / T^p: (a, b), (JᵀJ)⁻¹, χ².

    Started from the weighted log fit of the positive points; 1/T is centred inside the fit so
    the two parameters are nearly uncorrelated, and the covariance is transformed back.
    """
    positive = sigma > 0
    if np.count_nonzero(positive) < 2:
        raise ValueError("need at least two positive conductivities to start the fit")
    scale_t = inverse_t ** (-power_of_t)  # T^p, the σT form's factor
    y = np.log(sigma[positive] * scale_t[positive])
    design = np.column_stack([np.ones(positive.sum()), inverse_t[positive]])
    start = _log_fit(design, y, (sigma[positive] / err[positive]) ** 2)[0]
    centre = float(inverse_t.mean())
    x = inverse_t - centre

    def residuals(p: np.ndarray) -> np.ndarray:
        return (sigma - np.exp(p[0] + p[1] * x) / scale_t) / err

    def jacobian(p: np.ndarray) -> np.ndarray:
        model = np.exp(p[0] + p[1] * x) / scale_t
        return -np.column_stack([model, model * x]) / err[:, None]

    solution = optimize.least_squares(
        residuals,
        np.array([start[0] + start[1] * centre, start[1]]),
        jac=jacobian,
        method="lm",
        xtol=1e-14,
        ftol=1e-14,
        gtol=1e-14,
    )
    j = jacobian(solution.x)
    covariance_centred = np.linalg.inv(j.T @ j)
    back = np.array([[1.0, -centre], [0.0, 1.0]])  # (c, b) → (a, b), a = c − b·centre
    coefficients = back @ solution.x
    return coefficients, back @ covariance_centred @ back.T, float(np.sum(solution.fun**2))


def fit_arrhenius(
    temperature_K: np.ndarray,
    conductivity_mS_cm: np.ndarray,
    conductivity_stderr_mS_cm: np.ndarray | None = None,
    form: ArrheniusForm = "sigma",
    extrapolation_K: float = ROOM_TEMPERATURE_K,
    error_dof: int | None = None,
) -> ArrheniusFit:
    """Arrhenius fit of σ(T): weighted in σ with error bars, ln σ without (module docstring).

    The parameter covariance is scaled by the reduced χ² when that exceeds 1 (error bars too
    small for the scatter) and n > 2; without error bars it comes from the scatter alone
    (needs ≥ 3 temperatures).

    Parameters
    ----------
    temperature_K, conductivity_mS_cm, conductivity_stderr_mS_cm
        The runs; with error bars σ may be ≤ 0 (a noisy cold run), without them it must be > 0.
    form
        ``"sigma"`` or ``"sigma_T"``.
    extrapolation_K
        Temperature of the extrapolated σ and its interval.
    error_dof
        Degrees of freedom of the error bars (block standard errors: n_blocks − 1); None
        treats them as exact.

    Raises
    ------
    ValueError
        Fewer than 3 distinct temperatures, a temperature ≤ 0, σ ≤ 0 without error bars, or
        fewer than two positive σ.
    """
    t, sigma, err, weighted = _checked_runs(
        temperature_K, conductivity_mS_cm, conductivity_stderr_mS_cm
    )
    power_of_t = 1.0 if form == "sigma_T" else 0.0
    if weighted:
        coefficients, covariance, quantile = _weighted_fit(t, sigma, err, power_of_t, error_dof)  # type: ignore[arg-type]
    else:
        coefficients, covariance, quantile = _unweighted_fit(t, sigma, power_of_t)
    ea = -coefficients[1] * units.BOLTZMANN_EV_K
    ea_err = float(np.sqrt(covariance[1, 1]) * units.BOLTZMANN_EV_K)
    fit = ArrheniusFit(
        form=form,
        activation_energy_eV=float(ea),
        activation_energy_stderr_eV=ea_err,
        prefactor=float(np.exp(coefficients[0])),
        extrapolation_K=float(extrapolation_K),
        conductivity_extrapolated_mS_cm=0.0,
        conductivity_extrapolated_interval_mS_cm=(0.0, 0.0),
        temperature_K=t,
        conductivity_mS_cm=sigma,
        conductivity_stderr_mS_cm=err,
        error_dof=error_dof,
        _coefficients=coefficients,
        _covariance=covariance,
        _quantile=float(quantile),
    )
    lo, hi = fit.interval_mS_cm(np.array(extrapolation_K))
    return replace(
        fit,
        conductivity_extrapolated_mS_cm=float(fit.predict_mS_cm(np.array(extrapolation_K))),
        conductivity_extrapolated_interval_mS_cm=(float(lo), float(hi)),
    )


def _checked_runs(
    temperature_K: np.ndarray,
    conductivity_mS_cm: np.ndarray,
    conductivity_stderr_mS_cm: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, bool]:
    """T, σ and error bars as float arrays, and whether the fit is weighted (all bars > 0).

    Raises ``ValueError`` for mismatched shapes, too few distinct temperatures, or values a
    log fit cannot take.
    """
    t = np.asarray(temperature_K, dtype=np.float64)
    sigma = np.asarray(conductivity_mS_cm, dtype=np.float64)
    if t.shape != sigma.shape:
        raise ValueError(f"{t.size} temperatures but {sigma.size} conductivities")
    if np.unique(t).size < MIN_TEMPERATURES:
        raise ValueError(
            f"{np.unique(t).size} distinct temperature(s): an Arrhenius fit with an error bar "
            f"needs at least {MIN_TEMPERATURES}"
        )
    err = (
        None if conductivity_stderr_mS_cm is None else np.asarray(conductivity_stderr_mS_cm, float)
    )
    weighted = bool(err is not None and np.all(err > 0))
    if np.any(t <= 0) or (not weighted and np.any(sigma <= 0)):
        raise ValueError("temperatures and conductivities must be positive for a log fit")
    return t, sigma, err, weighted


def _weighted_fit(
    t: np.ndarray, sigma: np.ndarray, err: np.ndarray, power_of_t: float, error_dof: int | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit of σ with its error bars: coefficients, covariance, two-sided 95 % quantile.

    The covariance is scaled by the reduced χ² when that exceeds 1, and the quantile is then
    Student-t on the fit's n − 2; otherwise Student-t on ``error_dof``, or normal without it.
    """
    dof = t.size - 2
    coefficients, covariance, chi2 = _linear_space_fit(1.0 / t, sigma, err, power_of_t)
    scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    if dof > 0 and chi2 / dof > 1:
        quantile = special.stdtrit(dof, 0.975)
    elif error_dof is not None:
        quantile = special.stdtrit(error_dof, 0.975)
    else:
        quantile = special.ndtri(0.975)
    return coefficients, covariance * scale, quantile


def _unweighted_fit(
    t: np.ndarray, sigma: np.ndarray, power_of_t: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Ordinary least squares of ln(σ T^p): coefficients, covariance scaled by the scatter
    (χ² / (n − 2)), two-sided 95 % Student-t quantile on n − 2."""
    n = t.size
    dof = n - 2
    design = np.column_stack([np.ones_like(t), 1.0 / t])
    coefficients, covariance, chi2 = _log_fit(design, np.log(sigma * t**power_of_t), np.ones(n))
    scale = chi2 / dof if dof > 0 else float("nan")
    quantile = special.stdtrit(dof, 0.975) if dof > 0 else float("nan")
    return coefficients, covariance * scale, quantile
