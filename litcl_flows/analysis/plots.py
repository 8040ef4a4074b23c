"""Matplotlib figures of the transport results, saved as PNG and SVG (Agg, no display)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from litcl_flows.analysis import units
from litcl_flows.analysis.arrhenius import ArrheniusFit, upper_limit_mS_cm
from litcl_flows.analysis.hops import HopResult, displacement_traces
from litcl_flows.analysis.rdf import RDF
from litcl_flows.analysis.transport import TransportResult


def _save(fig: object, path_stem: Path) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg``; return both paths."""
    import matplotlib.pyplot as plt

    path_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [path_stem.with_suffix(".png"), path_stem.with_suffix(".svg")]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return paths


class MsdCurve(NamedTuple):
    """One run's MSD for :func:`plot_msd_curves` (arrays as stored, Σ over x, y, z)."""

    label: str
    time_ps: ArrayLike
    self_A2: ArrayLike
    distinct_A2: ArrayLike
    fit_window_ps: Sequence[float] | None = None


def plot_msd(results: Sequence[TransportResult], path_stem: Path) -> list[Path]:
    """Self and distinct MSD vs lag time, one colour per temperature; fit window shaded."""
    curves = [
        MsdCurve(
            f"{result.temperature_K:g} K",
            result.msd.time_ps,
            result.msd.self_sum_A2,
            result.msd.distinct_A2,
            result.fit_window_ps,
        )
        for result in results
    ]
    return plot_msd_curves(curves, path_stem)


def plot_msd_curves(curves: Sequence[MsdCurve], path_stem: Path) -> list[Path]:
    """:func:`plot_msd` from plain arrays (e.g. a stored ``TransportRunDocument.msd``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_self, ax_distinct) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for curve in curves:
        (line,) = ax_self.plot(curve.time_ps, curve.self_A2, label=curve.label)
        ax_distinct.plot(curve.time_ps, curve.distinct_A2, color=line.get_color())
        if curve.fit_window_ps is not None:
            for ax in (ax_self, ax_distinct):
                ax.axvspan(*curve.fit_window_ps, color=line.get_color(), alpha=0.08)
    ax_self.set(xlabel="lag time (ps)", ylabel="MSD$_{self}$ (Å$^2$)")
    ax_distinct.set(xlabel="lag time (ps)", ylabel="MSD$_{distinct}$ (Å$^2$)")
    ax_distinct.axhline(0.0, color="0.5", lw=0.8)
    ax_self.legend(frameon=False)
    return _save(fig, path_stem)


def plot_arrhenius(
    fit: ArrheniusFit,
    path_stem: Path,
    experiment: Sequence[tuple[float, float]] = (),
    references: Mapping[str, tuple[float, float, float | None]] | None = None,
    mark_extrapolation: bool = False,
) -> list[Path]:
    """σ (log scale) vs 1000/T with error bars (a σ ≤ 0 as its upper limit, ↓), the fit, its
    95 % confidence band down to the extrapolation temperature, and optional experimental
    (T_K, σ_mS_cm) points.

    ``references`` adds labelled literature values, label → (T_K, σ_mS_cm, Ea_eV or None):
    a marker and, given Ea, the σ-form Arrhenius line through it. ``mark_extrapolation``
    marks the extrapolated σ with its 95 % interval.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.6), constrained_layout=True)
    t = fit.temperature_K
    measured = fit.conductivity_mS_cm > 0
    err = fit.conductivity_stderr_mS_cm
    ax.errorbar(
        1000 / t[measured],
        fit.conductivity_mS_cm[measured],
        yerr=None if err is None else err[measured],
        fmt="o",
        label="MD",
    )
    if not measured.all() and err is not None:
        # σ ≤ 0 has no place on a log axis: its one-sided 95 % upper limit is drawn instead.
        limits = [
            upper_limit_mS_cm(s, e, fit.error_dof or 10**6)
            for s, e in zip(fit.conductivity_mS_cm[~measured], err[~measured], strict=True)
        ]
        ax.plot(
            1000 / t[~measured],
            limits,
            ls="",
            marker=r"$\downarrow$",
            markersize=12,
            color=ax.lines[-1].get_color() if ax.lines else None,
            label="MD, σ ≤ 0: 95 % upper limit",
        )
    grid = np.linspace(min(t.min(), fit.extrapolation_K), t.max(), 100)
    lo, hi = fit.interval_mS_cm(grid)
    form = "σ" if fit.form == "sigma" else "σT"
    (fit_line,) = ax.plot(
        1000 / grid,
        fit.predict_mS_cm(grid),
        label=f"{form} fit: Ea = {fit.activation_energy_eV:.3f} ± "
        f"{fit.activation_energy_stderr_eV:.3f} eV",
    )
    ax.fill_between(1000 / grid, lo, hi, alpha=0.2, label="95 % confidence band of the fit")
    if experiment:
        t_exp, s_exp = np.array(experiment, dtype=float).T
        ax.plot(1000 / t_exp, s_exp, "s", mfc="none", label="experiment")
    if mark_extrapolation:
        t_x, s_x = fit.extrapolation_K, fit.conductivity_extrapolated_mS_cm
        lo_x, hi_x = fit.conductivity_extrapolated_interval_mS_cm
        ax.errorbar(
            1000 / t_x,
            s_x,
            yerr=[[s_x - lo_x], [hi_x - s_x]],
            fmt="D",
            color=fit_line.get_color(),
            label=f"fit at {t_x:g} K: {s_x:.3g} mS/cm",
        )
    for i, (label, (t_ref, s_ref, ea_ref)) in enumerate((references or {}).items()):
        marker = "^vP*X"[i % 5]
        (point,) = ax.plot(1000 / t_ref, s_ref, marker, mfc="none", ls="", label=label)
        if ea_ref is not None:
            line = s_ref * np.exp(-ea_ref / units.BOLTZMANN_EV_K * (1 / grid - 1 / t_ref))
            ax.plot(1000 / grid, line, ls="--", lw=0.8, color=point.get_color())
    ax.set(yscale="log", xlabel="1000 / T (1/K)", ylabel="σ (mS/cm)")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, path_stem)


def plot_rdf(sources: Mapping[str, Mapping[tuple[str, str], RDF]], path_stem: Path) -> list[Path]:
    """One panel per element pair, g(r) of every source overlaid (e.g. AIMD vs ML-MD).

    ``sources`` maps a label to that run's RDFs by pair; pairs missing from a source are
    skipped in its overlay.
    """
    curves = {
        label: {f"{pair[0]}–{pair[1]}": (rdf.r_A, rdf.g) for pair, rdf in rdfs.items()}
        for label, rdfs in sources.items()
    }
    return plot_rdf_curves(curves, path_stem)


def plot_rdf_curves(
    sources: Mapping[str, Mapping[str, tuple[ArrayLike, ArrayLike]]], path_stem: Path
) -> list[Path]:
    """:func:`plot_rdf` from plain arrays: label → pair title → (r_A, g)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys(pair for curves in sources.values() for pair in curves))
    n_cols = min(3, len(pairs))
    n_rows = -(-len(pairs) // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.4 * n_cols, 2.8 * n_rows), squeeze=False, constrained_layout=True
    )
    for ax, pair in zip(axes.flat, pairs, strict=False):
        for label, curves in sources.items():
            if pair in curves:
                ax.plot(*curves[pair], label=label)
        ax.axhline(1.0, color="0.6", lw=0.7)
        ax.set(title=pair, xlabel="r (Å)", ylabel="g(r)")
    for ax in axes.flat[len(pairs) :]:
        ax.set_visible(False)
    axes.flat[0].legend(frameon=False, fontsize="small")
    return _save(fig, path_stem)


def _layer_steps(ax: object, time_ps: ArrayLike, layers: Mapping[int, ArrayLike]) -> None:
    """Layer index of each ion (key) against time, as steps, on ``ax``."""
    from matplotlib.ticker import MaxNLocator

    for ion, layer_index in layers.items():
        ax.step(time_ps, layer_index, where="post", label=f"ion {ion}")  # type: ignore[attr-defined]
    ax.set(ylabel="layer index")  # type: ignore[attr-defined]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # type: ignore[attr-defined]
    ax.legend(frameon=False, fontsize="x-small", ncol=3)  # type: ignore[attr-defined]


def plot_hops(
    result: HopResult,
    time_ps: np.ndarray,
    path_stem: Path,
    positions_A: np.ndarray | None = None,
    ions: Sequence[int] | None = None,
    max_ions: int = 6,
) -> list[Path]:
    """Hop traces: layer index vs time (top) and, given the unwrapped positions, displacement
    along the stacking normal vs time (bottom), for ``ions`` (default: those hopping most)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if ions is None:
        ions = np.argsort(-result.hops_per_ion, kind="stable")[:max_ions].tolist()
    panels = 1 if positions_A is None else 2
    fig, axes = plt.subplots(
        panels, 1, figsize=(6.0, 2.6 * panels), sharex=True, squeeze=False, constrained_layout=True
    )
    ax_layer = axes[0, 0]
    _layer_steps(ax_layer, time_ps, {ion: result.layer_index[:, ion] for ion in ions})
    ax_layer.set(
        title=f"{result.n_intra_layer} intra-layer, {result.n_inter_layer} inter-layer hops"
    )
    if positions_A is not None:
        _, along = displacement_traces(positions_A[:, list(ions)], result.stacking.normal)
        ax_disp = axes[1, 0]
        ax_disp.plot(time_ps, along, lw=0.8)
        for k in range(-1, 2):
            ax_disp.axhline(k * result.stacking.spacing_A, color="0.7", lw=0.6, ls="--")
        ax_disp.set(ylabel="displacement along normal (Å)")
    axes[-1, 0].set(xlabel="time (ps)")
    return _save(fig, path_stem)


def plot_layer_traces(
    panels: Mapping[str, tuple[ArrayLike, Mapping[int, ArrayLike]]], path_stem: Path
) -> list[Path]:
    """Hop traces from plain arrays, one panel per run: title → (time_ps, ion → layer index
    per frame), e.g. a stored ``TransportRunDocument.hop_traces``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(panels), 1, figsize=(6.0, 2.4 * len(panels)), squeeze=False, constrained_layout=True
    )
    for ax, (title, (time_ps, layers)) in zip(axes[:, 0], panels.items(), strict=True):
        _layer_steps(ax, time_ps, layers)
        ax.set(title=title)
    axes[-1, 0].set(xlabel="time (ps)")
    return _save(fig, path_stem)
