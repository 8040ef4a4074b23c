"""The report's figures, drawn from stored documents by the project's plot functions.

Every figure is written as ``<stem>.png`` (what the page shows) and ``<stem>.svg``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from litcl_flows.schemas.study import ArrheniusDocument
from litcl_flows.store.report_data import NebProfile


def _png_and_svg(draw: Callable[[Path], object], stem: Path) -> list[Path]:
    """Call a one-file plot function for ``<stem>.png`` and ``<stem>.svg``."""
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for path in paths:
        draw(path)
    return paths


def parity_figure(parity: Mapping[str, list], stem: Path) -> list[Path]:
    """DeePMD energy and force parity (``DeepmdTrainingDocument.parity``)."""
    from litcl_flows.engines.deepmd.plots import plot_parity

    return _png_and_svg(lambda path: plot_parity(dict(parity), path), stem)


def learning_curve_figure(curve: Mapping[str, list], stem: Path) -> list[Path]:
    """DeePMD RMSE and learning rate against step (``DeepmdTrainingDocument.learning_curve``)."""
    from litcl_flows.engines.deepmd.plots import plot_learning_curve

    return _png_and_svg(lambda path: plot_learning_curve(dict(curve), path), stem)


def rdf_figure(
    rows: Sequence[Mapping[str, Any]],
    temperature_K: float,
    reference_temperature_K: float | None,
    stem: Path,
) -> list[Path]:
    """g(r) per pair, ML-MD against the reference AIMD (``RdfComparison`` rows)."""
    from litcl_flows.analysis.plots import plot_rdf_curves

    # Pair titles as plot_rdf writes them ("Cl–Ti").
    mlmd = {row["pair"].replace("-", "–"): (row["r_A"], row["g_mlmd"]) for row in rows}
    reference = {
        row["pair"].replace("-", "–"): (row["r_A"], row["g_reference"])
        for row in rows
        if row.get("g_reference")
    }
    at = f" {reference_temperature_K:g} K" if reference_temperature_K is not None else ""
    sources = {f"ML-MD {temperature_K:g} K": mlmd}
    if reference:
        sources[f"reference AIMD{at}"] = reference
    return plot_rdf_curves(sources, stem)


def msd_figure(
    runs: Sequence[tuple[float, Mapping[str, list], Sequence[float] | None]], stem: Path
) -> list[Path]:
    """Self and distinct MSD per temperature: (temperature_K, ``msd`` arrays, fit window)."""
    from litcl_flows.analysis.plots import MsdCurve, plot_msd_curves

    curves = [
        MsdCurve(f"{t:g} K", msd["time_ps"], msd["self_A2"], msd["distinct_A2"], window)
        for t, msd, window in runs
    ]
    return plot_msd_curves(curves, stem)


def hop_figure(
    runs: Sequence[tuple[float, Mapping[str, list], Mapping[str, Any] | None]], stem: Path
) -> list[Path]:
    """Layer index per traced ion against time, one panel per run: (temperature_K,
    ``hop_traces``, ``hops`` counts or None)."""
    from litcl_flows.analysis.plots import plot_layer_traces

    panels = {}
    for t, traces, hops in runs:
        title = f"{t:g} K"
        if hops:
            title += (
                f": {hops.get('n_intra_layer_hops')} intra-layer, "
                f"{hops.get('n_inter_layer_hops')} inter-layer hops"
            )
        layers = dict(zip(traces["ions"], traces["layer_index"], strict=True))
        panels[title] = (traces["time_ps"], layers)
    return plot_layer_traces(panels, stem)


def arrhenius_figure(
    document: ArrheniusDocument,
    references: Mapping[str, tuple[float, float, float | None]],
    stem: Path,
) -> list[Path]:
    """log σ vs 1000/T with error bars, the fit and its 95 % confidence band, the extrapolated
    σ, and literature points ``label → (T_K, σ_mS_cm, Ea_eV or None)``.

    The band needs the fit's covariance, which the document does not keep: the fit is redone
    from the document's own points with the same function and settings.
    """
    from litcl_flows.analysis.arrhenius import fit_arrhenius
    from litcl_flows.analysis.plots import plot_arrhenius

    fit = fit_arrhenius(
        document.temperatures_K,
        document.conductivities_mS_cm,
        document.conductivity_stderrs_mS_cm or None,
        form=document.form,  # type: ignore[arg-type]
        extrapolation_K=document.extrapolation_K,
        error_dof=document.error_dof,
    )
    return plot_arrhenius(fit, stem, references=references, mark_extrapolation=True)


def neb_figure(profiles: Sequence[NebProfile], title: str, stem: Path) -> list[Path]:
    """NEB energy profiles, one line per hop direction."""
    from litcl_flows.neb.plots import plot_energy_profiles

    curves = {
        f"{p.direction_label} {p.hop_length_A:.2f} Å": (p.coordinate, p.energies_eV)
        for p in profiles
    }
    return _png_and_svg(lambda path: plot_energy_profiles(curves, path, title), stem)
