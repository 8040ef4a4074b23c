"""Arrhenius fits of conductivity over temperature, weighted by the error bars.

Two forms, both offered because the literature uses both and they give different Ea:
``"sigma"``: σ = σ0 exp(−Ea / k_B T), fitting ln σ vs 1/T;
``"sigma_T"``: σT = A exp(−Ea / k_B T), fitting ln(σT) vs 1/T (common in solid-state ionics).
pymatgen-analysis-diffusion's ``fit_arrhenius`` fits ln D unweighted; here the weights and the
prediction interval are needed, so the 2-parameter weighted least squares is written out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import stats

from litcl_flows.analysis import units

ArrheniusForm = Literal["sigma", "sigma_T"]
ROOM_TEMPERATURE_K: float = 298.15


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
    conductivity_extrapolated_mS_cm
        σ at ``extrapolation_K`` from the fit.
    conductivity_extrapolated_interval_mS_cm
        95 % confidence interval of that σ (Student t with n − 2 degrees of freedom when the
        scatter sets the scale, normal when the error bars do).
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


def fit_arrhenius(
    temperature_K: np.ndarray,
    conductivity_mS_cm: np.ndarray,
    conductivity_stderr_mS_cm: np.ndarray | None = None,
    form: ArrheniusForm = "sigma",
    extrapolation_K: float = ROOM_TEMPERATURE_K,
) -> ArrheniusFit:
    """Weighted straight-line fit of ln σ (or ln σT) against 1/T.

    Weights are 1/var(ln σ) = (σ/δσ)². The parameter covariance is scaled by the reduced χ²
    when that exceeds 1 (error bars too small for the scatter) and n > 2; without error bars
    it comes from the scatter alone (needs ≥ 3 temperatures).

    Raises
    ------
    ValueError
        Fewer than 2 temperatures, or a conductivity that is not positive.
    """
    t = np.asarray(temperature_K, dtype=np.float64)
    sigma = np.asarray(conductivity_mS_cm, dtype=np.float64)
    if t.size < 2 or t.shape != sigma.shape:
        raise ValueError("need at least two (temperature, conductivity) pairs of equal length")
    if np.any(sigma <= 0) or np.any(t <= 0):
        raise ValueError("temperatures and conductivities must be positive for a log fit")
    y = np.log(sigma * t) if form == "sigma_T" else np.log(sigma)
    design = np.column_stack([np.ones_like(t), 1.0 / t])
    n = t.size
    dof = n - 2
    err = (
        None if conductivity_stderr_mS_cm is None else np.asarray(conductivity_stderr_mS_cm, float)
    )
    weighted = err is not None and np.all(err > 0)
    weights = (sigma / err) ** 2 if weighted else np.ones(n)  # type: ignore[operator]
    normal = design.T @ (design * weights[:, None])
    coefficients = np.linalg.solve(normal, design.T @ (weights * y))
    chi2 = float(np.sum(weights * (y - design @ coefficients) ** 2))
    covariance = np.linalg.inv(normal)
    if weighted:
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
        quantile = stats.t.ppf(0.975, dof) if dof > 0 and chi2 / dof > 1 else stats.norm.ppf(0.975)
    else:
        scale = chi2 / dof if dof > 0 else float("nan")
        quantile = stats.t.ppf(0.975, dof) if dof > 0 else float("nan")
    covariance = covariance * scale
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
