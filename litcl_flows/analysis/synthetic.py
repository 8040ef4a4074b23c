"""Synthetic trajectories with known transport coefficients, to check the analysis against.

Public API (docs/analysis.md, "Checking the analysis on a known answer"): :func:`pair_walk`
gives unwrapped positions whose D_self, D_total and H_R are known exactly, for
:func:`~litcl_flows.analysis.transport.analyze_transport` or, written as a LAMMPS dump, for
``litcl analyze``. The package's own tests use it the same way.

Model (derived by hand, see `pair_walk_truth`): N ions in N/2 pairs. At every frame each ion
takes an independent Gaussian step ξ_i (variance s_ξ² per component) plus a step ±η_p shared
with its partner with opposite sign (variance s_η²). Per component and frame:

- self:  ⟨Δx_i²⟩ grows by s_ξ² + s_η²           → D_self  = (s_ξ² + s_η²) / (2Δt)
- total: Σ_i Δx_i grows by Σ ξ_i (the ±η cancel) → (1/N)⟨(Σ Δx_i)²⟩ grows by s_ξ²
                                                 → D_total = s_ξ² / (2Δt)
- H_R = D_self / D_total = 1 + s_η² / s_ξ²  (> 1: anti-correlated partners, as in the study).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from litcl_flows.analysis import units


@dataclass(frozen=True)
class PairWalkTruth:
    """Exact transport coefficients of the pair-walk model."""

    D_self_cm2_s: float
    D_total_cm2_s: float
    haven_ratio: float


def pair_walk_truth(D_self_cm2_s: float, haven_ratio: float) -> tuple[PairWalkTruth, float, float]:
    """Truth and the two step variances (Å² per ps of frame interval, per component).

    Returns ``(truth, s_xi2_A2_per_ps, s_eta2_A2_per_ps)``: multiply by the frame interval in
    ps for the per-frame variances.
    """
    d_self_A2_ps = D_self_cm2_s / units.CM2_PER_M2 / units.M2_S_PER_A2_PS
    s_xi2 = 2 * d_self_A2_ps / haven_ratio
    s_eta2 = 2 * d_self_A2_ps - s_xi2
    truth = PairWalkTruth(D_self_cm2_s, D_self_cm2_s / haven_ratio, haven_ratio)
    return truth, s_xi2, s_eta2


def pair_walk(
    n_ions: int,
    n_frames: int,
    frame_interval_ps: float,
    D_self_cm2_s: float,
    haven_ratio: float,
    box_A: float = 20.0,
    seed: int = 0,
) -> tuple[np.ndarray, PairWalkTruth]:
    """Unwrapped positions (n_frames, n_ions, 3) in Å of the pair-walk model, and its truth."""
    if n_ions % 2:
        raise ValueError("n_ions must be even (ions move in pairs)")
    rng = np.random.default_rng(seed)
    truth, s_xi2, s_eta2 = pair_walk_truth(D_self_cm2_s, haven_ratio)
    xi = rng.normal(0.0, np.sqrt(s_xi2 * frame_interval_ps), (n_frames - 1, n_ions, 3))
    eta = rng.normal(0.0, np.sqrt(s_eta2 * frame_interval_ps), (n_frames - 1, n_ions // 2, 3))
    xi[:, 0::2] += eta
    xi[:, 1::2] -= eta
    start = rng.uniform(0.0, box_A, (1, n_ions, 3))
    return np.concatenate([start, start + np.cumsum(xi, axis=0)]), truth
