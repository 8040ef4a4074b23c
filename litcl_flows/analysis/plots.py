"""Matplotlib figures of the transport results, saved as PNG and SVG (Agg, no display)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from litcl_flows.analysis.arrhenius import ArrheniusFit
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


def plot_msd(results: Sequence[TransportResult], path_stem: Path) -> list[Path]:
    """Self and distinct MSD vs lag time, one colour per temperature; fit window shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_self, ax_distinct) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for result in results:
        msd = result.msd
        label = f"{result.temperature_K:g} K"
        (line,) = ax_self.plot(msd.time_ps, msd.self_sum_A2, label=label)
        ax_distinct.plot(msd.time_ps, msd.distinct_A2, color=line.get_color(), label=label)
        for ax in (ax_self, ax_distinct):
            ax.axvspan(*result.fit_window_ps, color=line.get_color(), alpha=0.08)
    ax_self.set(xlabel="lag time (ps)", ylabel="MSD$_{self}$ (Å$^2$)")
    ax_distinct.set(xlabel="lag time (ps)", ylabel="MSD$_{distinct}$ (Å$^2$)")
    ax_distinct.axhline(0.0, color="0.5", lw=0.8)
    ax_self.legend(frameon=False)
    return _save(fig, path_stem)


def plot_arrhenius(
    fit: ArrheniusFit,
    path_stem: Path,
    experiment: Sequence[tuple[float, float]] = (),
) -> list[Path]:
    """σ (log scale) vs 1000/T with error bars, the fit, its 95 % band down to the
    extrapolation temperature, and optional experimental (T_K, σ_mS_cm) points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.6), constrained_layout=True)
    t = fit.temperature_K
    ax.errorbar(
        1000 / t,
        fit.conductivity_mS_cm,
        yerr=fit.conductivity_stderr_mS_cm,
        fmt="o",
        label="MD",
    )
    grid = np.linspace(min(t.min(), fit.extrapolation_K), t.max(), 100)
    lo, hi = fit.interval_mS_cm(grid)
    form = "σ" if fit.form == "sigma" else "σT"
    ax.plot(
        1000 / grid,
        fit.predict_mS_cm(grid),
        label=f"{form} fit: Ea = {fit.activation_energy_eV:.3f} ± "
        f"{fit.activation_energy_stderr_eV:.3f} eV",
    )
    ax.fill_between(1000 / grid, lo, hi, alpha=0.2, label="95 % interval")
    if experiment:
        t_exp, s_exp = np.array(experiment, dtype=float).T
        ax.plot(1000 / t_exp, s_exp, "s", mfc="none", label="experiment")
    ax.set(yscale="log", xlabel="1000 / T (1/K)", ylabel="σ (mS/cm)")
    ax.legend(frameon=False, fontsize="small")
    return _save(fig, path_stem)


def plot_rdf(sources: Mapping[str, Mapping[tuple[str, str], RDF]], path_stem: Path) -> list[Path]:
    """One panel per element pair, g(r) of every source overlaid (e.g. AIMD vs ML-MD).

    ``sources`` maps a label to that run's RDFs by pair; pairs missing from a source are
    skipped in its overlay.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = list(dict.fromkeys(pair for rdfs in sources.values() for pair in rdfs))
    n_cols = min(3, len(pairs))
    n_rows = -(-len(pairs) // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.4 * n_cols, 2.8 * n_rows), squeeze=False, constrained_layout=True
    )
    for ax, pair in zip(axes.flat, pairs, strict=False):
        for label, rdfs in sources.items():
            if pair in rdfs:
                ax.plot(rdfs[pair].r_A, rdfs[pair].g, label=label)
        ax.axhline(1.0, color="0.6", lw=0.7)
        ax.set(title=f"{pair[0]}–{pair[1]}", xlabel="r (Å)", ylabel="g(r)")
    for ax in axes.flat[len(pairs) :]:
        ax.set_visible(False)
    axes.flat[0].legend(frameon=False, fontsize="small")
    return _save(fig, path_stem)


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
    for ion in ions:
        ax_layer.step(time_ps, result.layer_index[:, ion], where="post", label=f"ion {ion}")
    ax_layer.set(
        ylabel="layer index",
        title=f"{result.n_intra_layer} intra-layer, {result.n_inter_layer} inter-layer hops",
    )
    ax_layer.legend(frameon=False, fontsize="x-small", ncol=3)
    if positions_A is not None:
        _, along = displacement_traces(positions_A[:, list(ions)], result.stacking.normal)
        ax_disp = axes[1, 0]
        ax_disp.plot(time_ps, along, lw=0.8)
        for k in range(-1, 2):
            ax_disp.axhline(k * result.stacking.spacing_A, color="0.7", lw=0.6, ls="--")
        ax_disp.set(ylabel="displacement along normal (Å)")
    axes[-1, 0].set(xlabel="time (ps)")
    return _save(fig, path_stem)
