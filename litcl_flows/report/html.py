"""The study report: one self-contained ``index.html`` with its figures beside it.

Plain HTML with inline CSS: no script, no network. Figures are PNG files referenced by
relative paths (an SVG copy of each is linked from its caption). Numbers are shown to four
significant digits, with ``±`` standard errors and 95 % intervals as stored.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litcl_flows.labels import u_label
from litcl_flows.report import figures
from litcl_flows.schemas.learning import ConcurrentLearningDocument
from litcl_flows.schemas.study import (
    BranchSummary,
    ComparisonRow,
    TransportRunDocument,
    TransportStudyDocument,
)
from litcl_flows.store.report_data import ReportData

#: Display names of engines, for the stand-in label.
ENGINE_NAMES: dict[str, str] = {"chgnet": "CHGNet", "deepmd": "DeePMD", "vasp": "VASP"}
#: Comparison quantities drawn as literature points on the Arrhenius plot.
ARRHENIUS_QUANTITIES = ("activation_energy_eV", "conductivity_298K_mS_cm")

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.standin { background: #fff3cd; color: #7a5400; padding: 0 0.3em; border-radius: 3px; }
.banner { background: #fff3cd; border: 1px solid #e0c36c; padding: 0.6em 1em; }
.failed { color: #a40000; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; }
"""


@dataclass
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    figures: list[Path] = field(default_factory=list)


def _e(value: object) -> str:
    return html.escape(str(value))


def _fmt(value: float | None) -> str:
    """Four significant digits; an en dash for a missing value."""
    return "–" if value is None else f"{value:.4g}"


def _pm(value: float | None, stderr: float | None) -> str:
    return _fmt(value) if stderr is None or value is None else f"{_fmt(value)} ± {_fmt(stderr)}"


def _interval(interval: Sequence[float] | None) -> str:
    return "" if not interval else f" [{_fmt(interval[0])}, {_fmt(interval[1])}]"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]", "", text)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """An HTML table; cells are HTML already (escaped by the caller); ``numeric`` columns
    are right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>\n"
        for row in rows
    )
    return f"<table><tr>{head}</tr>\n{body}</table>\n"


class _Page:
    """Collects the HTML sections and the figures written for them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.parts: list[str] = []
        self.files: list[Path] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def figure(self, paths: list[Path], caption: str) -> None:
        """Show the PNG of ``paths``; the caption links the SVG."""
        self.files += paths
        png, svg = (p.name for p in paths)
        self.add(
            f'<figure><img src="{_e(png)}" alt="{_e(caption)}">'
            f'<figcaption>{_e(caption)} (<a href="{_e(svg)}">SVG</a>)</figcaption></figure>\n'
        )


def _stand_in_label(study: TransportStudyDocument, row: ComparisonRow) -> str:
    # ML-MD rows name the MD engine; what stood in for DFT+U is then the reference engine.
    engine = row.engine if row.engine in ENGINE_NAMES else study.reference_engine
    name = ENGINE_NAMES.get(engine, engine)
    return f'<span class="standin">stand-in engine ({_e(name)} in place of DFT+U)</span>'


def _comparison(page: _Page, study: TransportStudyDocument) -> None:
    page.add("<h2>Ours vs the study vs experiment</h2>\n")
    if not study.comparison:
        page.add("<p>No comparison rows.</p>\n")
        return
    rows = [
        [
            f"<code>{_e(row.quantity)}</code>",
            _e("study-wide" if row.hubbard_u_eV is None else u_label(row.hubbard_u_eV)),
            _e(_pm(row.ours, row.ours_stderr) + _interval(row.ours_interval)),
            _e(_fmt(row.study)),
            _e(_fmt(row.experiment)),
            _e(row.engine),
            _stand_in_label(study, row) if row.stand_in else "",
        ]
        for row in study.comparison
    ]
    headers = ["quantity", "branch", "ours ± stderr [95 %]", "study", "experiment", "engine", ""]
    page.add(_table(headers, rows, numeric={2, 3, 4}))


def _header(page: _Page, study: TransportStudyDocument) -> None:
    page.add(f"<h1>{_e(study.material)} transport study <code>{_e(study.study)}</code></h1>\n")
    engine = ENGINE_NAMES.get(study.reference_engine, study.reference_engine)
    page.add(
        f"<p>Profile <b>{_e(study.profile)}</b>; reference engine <b>{_e(engine)}</b>; "
        f"mobile ion {_e(study.mobile_species)}; {len(study.branches)} U branch(es).</p>\n"
    )
    if study.is_stand_in:
        page.add(
            f'<p class="banner">{_e(engine)} stood in for DFT+U: every number resting on it is '
            "a stand-in, not a DFT result (marked in the table).</p>\n"
        )


def _runs_table(page: _Page, branch: BranchSummary) -> None:
    rows = []
    for run in branch.runs:
        status = (
            "done" if run.completed else f'<span class="failed">{_e(run.failure_reason)}</span>'
        )
        notes = "; ".join(run.warnings)
        rows.append(
            [
                _e(_fmt(run.temperature_K)),
                _e(_pm(run.D_self_cm2_s, run.D_self_stderr_cm2_s)),
                _e(_pm(run.D_total_cm2_s, run.D_total_stderr_cm2_s)),
                _e(_pm(run.haven_ratio, run.haven_ratio_stderr)),
                _e(_pm(run.conductivity_mS_cm, run.conductivity_stderr_mS_cm)),
                _e(_fmt(run.conductivity_self_mS_cm)),
                _e(_exponents(run)),
                _e(_fmt(run.n_frames)),
                _e(_percent(run.out_of_domain_fraction)),
                _stopped(run),
                status + (f"<br><small>{_e(notes)}</small>" if notes else ""),
            ]
        )
    headers = [
        "T (K)",
        "D_self (cm²/s)",
        "D_total (cm²/s)",
        "H_R",
        "σ (mS/cm)",
        "σ_self (mS/cm)",
        "MSD exponent self / total",
        "frames",
        "out of domain",
        "stopped",
        "status",
    ]
    page.add("<h3>Transport per temperature</h3>\n")
    frames = {run.reference_frame for run in branch.runs if run.reference_frame}
    dofs = {run.stderr_dof for run in branch.runs if run.stderr_dof}
    page.add(
        "<p>Displacements relative to the "
        f"{_e(' / '.join(sorted(frames)) or 'host centre of mass')}; ± block standard errors"
        + (f" ({_e(', '.join(map(str, sorted(dofs))))} degrees of freedom)" if dofs else "")
        + "; the MSD exponent d ln MSD / d ln t over the fit window is 1 for diffusion "
        "(a run flagged not diffusive carries a warning). <i>stopped</i>: why the run ended: "
        "its D_self met the run-length target with the guards (converged), it reached "
        "mlmd.n_steps first (max length), or its length was fixed; below it, the last verdict. "
        "<i>out of domain</i>: share of the run's frames whose force deviation across the "
        "ensemble reaches the lower trust level (– : one model, no deviation).</p>\n"
    )
    page.add(_table(headers, rows, numeric=set(range(9))))


def _percent(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.1f} %"


def _stopped(run: TransportRunDocument) -> str:
    """Why the run ended (HTML): the reason, its length and the last run-length verdict."""
    length = "" if run.stop_length_ps is None else f" at {run.stop_length_ps:g} ps"
    label = {
        "converged": f"converged{length}",
        "max_length": f"max length{length}",
        "fixed_length": "fixed length",
    }.get(run.stop_reason or "", run.stop_reason or "–")
    if not run.stop_explanation:
        return _e(label)
    n = run.n_run_length_verdicts
    verdicts = f" ({n} verdict{'s' * (n != 1)})"
    return f"{_e(label)}<br><small>{_e(run.stop_explanation + verdicts)}</small>"


def _exponents(run: TransportRunDocument) -> str:
    if run.msd_exponent_self is None:
        return ""
    total = "–" if run.msd_exponent_total is None else f"{run.msd_exponent_total:.2f}"
    return f"{run.msd_exponent_self:.2f} / {total}" + ("" if run.diffusive else " (not diffusive)")


def _deepmd(page: _Page, branch: BranchSummary, data: ReportData, slug: str) -> None:
    page.add("<h3>Deep potential</h3>\n")
    if branch.deepmd_validation:
        rows = [
            [f"<code>{_e(key)}</code>", _e(_fmt(value))]
            for key, value in branch.deepmd_validation.model_dump().items()
            if isinstance(value, int | float)
        ]
        page.add(_table(["validation error", "value"], rows, numeric={1}))
    if branch.learning is not None:
        _learning(page, branch.learning)
    training = data.trainings.get(branch.train_uuid or "")
    if training is None:
        page.add("<p>No training output stored.</p>\n")
        return
    if training.get("parity"):
        paths = figures.parity_figure(training["parity"], page.directory / f"fig1_parity_{slug}")
        page.figure(
            paths,
            "Fig. 1a: DeePMD parity, energy per atom and force components, "
            "predicted vs reference (validation set).",
        )
    if training.get("learning_curve"):
        stem = page.directory / f"fig1_learning_curve_{slug}"
        paths = figures.learning_curve_figure(training["learning_curve"], stem)
        page.figure(paths, "Fig. 1b: DeePMD learning curve (lcurve.out).")


def _learning(page: _Page, learning: ConcurrentLearningDocument) -> None:
    """The concurrent-learning iterations: data, errors, trust levels and decisions."""
    rows = [
        [
            _e(str(it.iteration)),
            _e(f"{it.n_training_frames} ({it.n_labelled_frames})"),
            _e(_fmt(it.validation_force_rmse_eV_A)),
            _e(_fmt(it.validation_energy_rmse_eV_per_atom)),
            _e(str(it.n_frames_explored)),
            _e(_percent(it.accurate_fraction)),
            _e(_percent(it.candidate_fraction)),
            _e(_percent(it.failed_fraction)),
            _e(_fmt(it.max_devi_f_mean_eV_A)),
            _e(str(it.n_picked)),
            _e(it.decision),
        ]
        for it in learning.iterations
    ]
    headers = [
        "iteration",
        "training frames (labelled)",
        "force RMSE (eV/Å)",
        "energy RMSE (eV/atom)",
        "frames explored",
        "accurate",
        "candidate",
        "failed",
        "mean max_devi_f (eV/Å)",
        "labelled",
        "decision",
    ]
    first = learning.iterations[0]
    page.add("<h3>Concurrent learning</h3>\n")
    page.add(
        f"<p>{_e(learning.stop_reason)}. Each iteration trains {first.n_models} models, explores "
        f"at {_e(', '.join(f'{t:g}' for t in first.exploration_temperatures_K))} K with the "
        "first while the others give the force deviation max_devi_f, and labels the "
        f"candidates (trust levels {first.level_f_lo_eV_A:g}–{first.level_f_hi_eV_A:g} eV/Å) "
        "with the reference engine. RMSE: mean over the ensemble on the reference runs' "
        "validation set (the same every iteration).</p>\n"
    )
    page.add(_table(headers, rows, numeric=set(range(10))))


_RunArrays = tuple[TransportRunDocument, dict[str, Any]]


def _run_arrays(branch: BranchSummary, data: ReportData) -> list[_RunArrays]:
    """(run, its analysis arrays) of the completed runs whose arrays are stored."""
    pairs = zip(branch.runs, branch.analysis_uuids, strict=False)
    return [
        (run, data.analyses[uuid]) for run, uuid in pairs if run.completed and uuid in data.analyses
    ]


def _rdf_run(runs: list[_RunArrays]) -> _RunArrays | None:
    """The run to compare with the AIMD: nearest its temperature (the study: 298 K)."""
    with_rdf = [(run, arrays) for run, arrays in runs if arrays.get("rdf")]
    if not with_rdf:
        return None
    target = with_rdf[0][1].get("rdf_reference_temperature_K")
    if target is None:
        return min(with_rdf, key=lambda pair: pair[0].temperature_K)
    return min(with_rdf, key=lambda pair: abs(pair[0].temperature_K - target))


def _arrhenius_references(
    study: TransportStudyDocument, branch: BranchSummary
) -> dict[str, tuple[float, float, float | None]]:
    """The study's and experiment's (Ea, σ(298 K)) from the comparison rows of ``branch``."""
    values: dict[str, dict[str, float]] = {"study": {}, "experiment": {}}
    for row in study.comparison:
        if row.quantity in ARRHENIUS_QUANTITIES and row.hubbard_u_eV in (None, branch.hubbard_u_eV):
            for source in values:
                if getattr(row, source) is not None:
                    values[source][row.quantity] = getattr(row, source)
    temperature = branch.arrhenius.extrapolation_K if branch.arrhenius else 298.15
    references = {}
    for source, found in values.items():
        if "conductivity_298K_mS_cm" in found:
            ea = found.get("activation_energy_eV")
            label = f"{source}: σ(298 K) {found['conductivity_298K_mS_cm']:.3g} mS/cm"
            label += f", Ea {ea:.3g} eV" if ea is not None else ""
            references[label] = (temperature, found["conductivity_298K_mS_cm"], ea)
    return references


def _arrhenius(
    page: _Page, study: TransportStudyDocument, branch: BranchSummary, slug: str
) -> None:
    page.add("<h3>Arrhenius</h3>\n")
    fit = branch.arrhenius
    if fit is None:
        page.add("<p>No Arrhenius fit for this branch.</p>\n")
        return
    if not fit.completed:
        page.add(f'<p class="failed">No fit: {_e(fit.failure_reason)}</p>\n')
    else:
        form = "σ = σ0 exp(−Ea/kT)" if fit.form == "sigma" else "σT = A exp(−Ea/kT)"
        source = (
            "Nernst–Einstein σ from D_total"
            if fit.conductivity == "total"
            else "Nernst–Einstein σ from D_self (H_R = 1)"
        )
        page.add(
            f"<p>{_e(source)}; fit form {_e(form)} over "
            f"{_e(', '.join(f'{t:g}' for t in fit.temperatures_K))} K: "
            f"<b>Ea = {_e(_pm(fit.activation_energy_eV, fit.activation_energy_stderr_eV))} eV</b>, "
            f"<b>σ({fit.extrapolation_K:g} K) = {_e(_fmt(fit.conductivity_298K_mS_cm))} mS/cm</b>"
            f"{_e(_interval(fit.conductivity_298K_interval_mS_cm))} (95 %), prefactor "
            f"{_e(_fmt(fit.prefactor))} {'mS/cm' if fit.form == 'sigma' else 'mS K/cm'}.</p>\n"
        )
        paths = figures.arrhenius_figure(
            fit, _arrhenius_references(study, branch), page.directory / f"fig6_arrhenius_{slug}"
        )
        page.figure(
            paths,
            "Fig. 6: log σ vs 1000/T with standard errors (↓: a σ ≤ 0 drawn at its 95 % "
            "upper limit, kept in the fit), the fit, its 95 % confidence band and the "
            "extrapolated σ(298 K), with the study's and experiment's values.",
        )
    if fit.failed_temperatures:
        left = "; ".join(
            f"{_fmt(item.temperature_K)} K: {item.reason}" for item in fit.failed_temperatures
        )
        page.add(f'<p class="failed">Left out of the fit: {_e(left)}</p>\n')


def _branch(page: _Page, data: ReportData, branch: BranchSummary) -> None:
    label = u_label(branch.hubbard_u_eV)
    slug = _slug(label)
    applied = {True: "applied", False: "not applied by the engine", None: "unknown"}
    page.add(f"<h2>Branch {_e(label)} (U {applied[branch.hubbard_u_applied]})</h2>\n")
    if branch.conventional_lattice:
        cells = [
            [f"<code>{_e(k)}</code>", _e(_fmt(v))] for k, v in branch.conventional_lattice.items()
        ]
        page.add("<h3>Relaxed cell (per conventional cell)</h3>\n")
        page.add(_table(["lattice", "value"], cells, numeric={1}))
    _deepmd(page, branch, data, slug)
    if branch.runs:
        _runs_table(page, branch)
    runs = _run_arrays(branch, data)
    chosen = _rdf_run(runs)
    if chosen is not None:
        run, arrays = chosen
        stem = page.directory / f"fig3_rdf_{slug}"
        paths = figures.rdf_figure(
            arrays["rdf"], run.temperature_K, arrays.get("rdf_reference_temperature_K"), stem
        )
        page.figure(paths, "Fig. 3: radial distribution functions, reference AIMD vs ML-MD.")
    msd_runs = [
        (run.temperature_K, arrays["msd"], run.fit_window_ps)
        for run, arrays in runs
        if arrays.get("msd")
    ]
    if msd_runs:
        paths = figures.msd_figure(msd_runs, page.directory / f"fig4_msd_{slug}")
        page.figure(
            paths,
            f"Fig. 4: {data.study.mobile_species} MSD, self and distinct (total − self), "
            "per temperature; fit windows shaded.",
        )
    hop_runs = [
        (run.temperature_K, arrays["hop_traces"], arrays.get("hops"))
        for run, arrays in runs
        if arrays.get("hop_traces")
    ]
    if hop_runs:
        paths = figures.hop_figure(hop_runs, page.directory / f"fig5_hops_{slug}")
        page.figure(
            paths,
            "Fig. 5: hop traces, layer plane (even: Ti layer, odd: Li layer) against time of the "
            f"{len(hop_runs[0][1]['ions'])} ions with the most hops in each run (chosen as the "
            "most mobile, not a random sample: the panels show the mechanism, not typical ions).",
        )
    _arrhenius(page, data.study, branch, slug)
    if branch.mlmd_speedup is not None:
        page.add(
            f"<p>ML-MD speed-up over the reference MD: {_e(_fmt(branch.mlmd_speedup))}× "
            f"({_e(_fmt(branch.reference_s_per_atom_step))} vs "
            f"{_e(_fmt(branch.mlmd_s_per_atom_step))} s per atom-step).</p>\n"
        )


def _neb(page: _Page, data: ReportData) -> None:
    study = data.study
    if not study.neb_barriers and not data.neb_profiles:
        return
    engine = ENGINE_NAMES.get(study.neb_engine or "", study.neb_engine or "")
    page.add(f"<h2>NEB barriers ({_e(engine)})</h2>\n")
    rows = [
        [
            _e(row.direction_label),
            _e(_fmt(row.hop_length_A)),
            "between layers" if row.crosses_layers else "in-layer",
            _e(_fmt(row.forward_barrier_eV)),
            _e(_fmt(row.reverse_barrier_eV)),
            _e(row.engine)
            + ("" if row.converged else ' <span class="failed">(not converged)</span>'),
        ]
        for row in study.neb_barriers or []
    ]
    headers = ["direction", "hop length (Å)", "hop", "forward (eV)", "reverse (eV)", "engine"]
    page.add(_table(headers, rows, numeric={1, 3, 4}))
    if data.neb_profiles:
        paths = figures.neb_figure(
            data.neb_profiles, study.material, page.directory / "neb_profiles"
        )
        page.figure(paths, "NEB energy profiles per hop direction (images and clamped spline).")


def _failures(page: _Page, study: TransportStudyDocument) -> None:
    page.add("<h2>Failures</h2>\n")
    if not study.failures:
        page.add("<p>None: every step finished.</p>\n")
        return
    rows = [
        [
            _e(item.step),
            _e(u_label(item.hubbard_u_eV) if item.hubbard_u_eV is not None else ""),
            _e(_fmt(item.temperature_K)),
            f'<span class="failed">{_e(item.reason)}</span>',
            f"<code>{_e(item.uuid)}</code>",
        ]
        for item in study.failures
    ]
    page.add(_table(["step", "branch", "T (K)", "reason", "job"], rows, numeric={2}))


def write_report(data: ReportData, directory: str | Path) -> ReportFiles:
    """Write ``index.html`` and its figures (PNG and SVG) into ``directory``.

    Needs no database: everything comes from ``data`` (see
    :func:`litcl_flows.store.report_data.load_report_data`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    study = data.study
    page = _Page(directory)
    _header(page, study)
    _comparison(page, study)
    for branch in study.branches:
        _branch(page, data, branch)
    _neb(page, data)
    _failures(page, study)
    versions = ", ".join(f"{_e(k)} {_e(v)}" for k, v in sorted(study.versions.items()))
    page.add(f"<hr><p><small>Computed with {versions}.</small></p>\n")
    text = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(study.study)}: {_e(study.material)} transport study</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n" + "".join(page.parts) + "</body>\n</html>\n"
    )
    path = directory / "index.html"
    path.write_text(text, encoding="utf-8")
    return ReportFiles(html=path, figures=page.files)
