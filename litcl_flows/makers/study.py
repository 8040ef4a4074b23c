"""The study's analysis jobs: one per ML-MD run, one Arrhenius fit per U, one study document.

They run with ``on_missing_references = NONE`` (FireWorks ``_allow_fizzled_parents``): a run that
failed arrives as None and is reported as failed, so one bad temperature does not sink the
study. The science is in :mod:`litcl_flows.analysis`; these wrappers read stored documents and
write schema documents.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import job
from pydantic import BaseModel, Field, field_validator
from pymatgen.core import Structure

from litcl_flows.analysis.arrhenius import fit_arrhenius, upper_limit_mS_cm
from litcl_flows.schemas.barriers import BarrierTableRow
from litcl_flows.schemas.deepmd import DeepmdErrorMetrics
from litcl_flows.schemas.lammps import LammpsMDDocument
from litcl_flows.schemas.learning import ConcurrentLearningDocument
from litcl_flows.schemas.neb import NebBarrierTable
from litcl_flows.schemas.study import (
    EXPERIMENT_VALUES,
    STUDY_LATTICE_U0,
    STUDY_VALUES,
    ArrheniusDocument,
    BranchSummary,
    ComparisonRow,
    FailedTemperature,
    StudyFailure,
    TransportRunDocument,
    TransportStudyDocument,
    UpperLimit,
)

if TYPE_CHECKING:
    from litcl_flows.io.frames import Frame

#: Packages whose versions the study document records.
VERSIONED_PACKAGES = (
    "litcl_flows",
    "atomate2",
    "jobflow",
    "fireworks",
    "custodian",
    "pymatgen",
    "deepmd-kit",
    "lammps",
    "chgnet",
    "torch",
    "numpy",
)
#: The material whose study and experimental values (docs/study.md) are shown beside ours.
REFERENCE_MATERIAL = "Li3TiCl6"
_ARRAYS = ["msd", "rdf", "hop_traces"]
#: Reference-MD frames used for its RDF.
MAX_REFERENCE_RDF_FRAMES = 50


def _as_model(value: Any, model: type) -> Any:
    return model.model_validate(value) if isinstance(value, dict) else value


def _last_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).strip().splitlines()[-1] if str(error) else ''}"


def _reference_rdf_frames(reference_trajectory: Any) -> Iterator[Frame] | None:
    """Evenly strided frames of the reference trajectory for its RDF (None without one)."""
    from litcl_flows.io import iter_pymatgen

    if reference_trajectory is None:
        return None
    # A few dozen frames give a smooth g(r); every AIMD frame would only cost time.
    stride = max(1, len(reference_trajectory) // MAX_REFERENCE_RDF_FRAMES)
    return iter_pymatgen(
        reference_trajectory[i] for i in range(0, len(reference_trajectory), stride)
    )


def _usable_runs(
    runs: list[TransportRunDocument | dict | None],
    run_uuids: list[str],
    temperatures_K: list[float],
    suffix: str,
) -> tuple[list[TransportRunDocument], list[FailedTemperature], dict[str, Any]]:
    """The runs with σ and its error (``suffix``: '' for D_total, '_self' for D_self), the
    temperatures that have none and why, and the material of the first run that arrived."""
    source = "D_total" if suffix == "" else "D_self"
    used: list[TransportRunDocument] = []
    failed: list[FailedTemperature] = []
    material = {"formula_pretty": None, "chemsys": None}
    for run, uuid, temperature in zip(runs, run_uuids, temperatures_K, strict=True):
        run = _as_model(run, TransportRunDocument)
        if run is not None and material["formula_pretty"] is None:
            material = {"formula_pretty": run.formula_pretty, "chemsys": run.chemsys}
        if run is None:
            reason = "the transport analysis job did not finish"
        elif not run.completed:
            reason = run.failure_reason
        elif getattr(run, f"conductivity{suffix}_mS_cm") is None or not getattr(
            run, f"conductivity{suffix}_stderr_mS_cm"
        ):
            reason = f"σ from {source} or its standard error is missing"
        else:
            used.append(run)
            continue
        failed.append(FailedTemperature(temperature_K=temperature, reason=reason, md_uuid=uuid))
    return used, failed, material


@job(data=_ARRAYS, output_schema=TransportRunDocument)
def analyze_run(
    md: LammpsMDDocument | dict | None,
    md_uuid: str,
    study: str,
    hubbard_u_eV: dict[str, float],
    temperature_K: float,
    reference_trajectory: Any,
    reference_temperature_K: float,
    mobile: str,
    settings: dict[str, Any],
) -> TransportRunDocument:
    """D_self, D_total, H_R, σ, the RDF against the reference AIMD and the hops of one run.

    An MD run that did not finish, or an analysis that cannot be done (too short, not
    diffusive), gives a document with ``completed=False`` and the reason.
    """
    from litcl_flows.analysis.md_run import analyze_md_run

    md = _as_model(md, LammpsMDDocument)
    base = {
        "study": study,
        "hubbard_u_eV": hubbard_u_eV,
        "temperature_K": temperature_K,
        "md_uuid": md_uuid,
        "formula_pretty": getattr(md, "formula_pretty", None),
        "chemsys": getattr(md, "chemsys", None),
    }
    if md is None:
        return TransportRunDocument(
            **base, completed=False, failure_reason="the ML-MD job did not finish"
        )
    base |= TransportRunDocument.stop_fields(md) | TransportRunDocument.deviation_fields(md)
    if not md.completed:
        return TransportRunDocument(
            **base,
            completed=False,
            failure_reason=f"ML-MD stopped at step {md.n_steps_done} of {md.n_steps_requested}",
        )
    reference_frames = _reference_rdf_frames(reference_trajectory)
    try:
        result = analyze_md_run(
            [f.path for f in md.dump_files if f.kind == "mobile"],
            [f.path for f in md.dump_files if f.kind == "all"],
            md.elements,
            mobile,
            temperature_K,
            md.time_step_fs,
            equilibration_steps=md.equilibration_steps,
            n_blocks=settings["n_blocks"],
            fit_window_ps=settings["fit_window_ps"],
            stacking_hkl=settings["stacking_hkl"],
            rdf_pairs=settings["rdf_pairs"],
            reference_frames=reference_frames,
            host_com_files=md.host_com_files,
            max_exponent_deviation=settings["max_msd_exponent_deviation"],
        )
    except Exception as error:
        # Any failure here is one temperature's: record it and let the study go on. (A
        # raised error would also copy this job's resolved inputs, the reference
        # trajectory, into every child's Firework spec as _fizzled_parents.)
        traceback.print_exc()
        return TransportRunDocument(**base, completed=False, failure_reason=_last_line(error))
    limit = settings.get("max_host_msd_A2")
    if limit is not None and result.host_msd_A2 is not None and result.host_msd_A2 > limit:
        return TransportRunDocument(
            **base,
            completed=False,
            failure_reason=f"the host framework moved {result.host_msd_A2:.3g} Å² (limit "
            f"{limit:g}): it melted or the potential left its training domain",
            host_msd_A2=result.host_msd_A2,
        )
    return TransportRunDocument.from_analysis(
        result,
        md,
        reference_temperature_K if reference_frames else None,
        **base,
    )


@job(output_schema=ArrheniusDocument)
def fit_branch_arrhenius(
    runs: list[TransportRunDocument | dict | None],
    run_uuids: list[str],
    temperatures_K: list[float],
    study: str,
    hubbard_u_eV: dict[str, float],
    form: str,
    extrapolation_K: float,
    conductivity: str = "total",
    min_temperatures: int = 3,
) -> ArrheniusDocument:
    """Arrhenius fit of σ(T) over the runs that finished (at least ``min_temperatures``).

    ``conductivity``: 'total' fits σ from D_total (the correlated Nernst–Einstein σ), 'self'
    the σ from D_self (H_R = 1), which short runs determine far better.
    """
    suffix = "" if conductivity == "total" else "_self"

    def sigma(run: TransportRunDocument) -> float | None:
        return getattr(run, f"conductivity{suffix}_mS_cm")

    used, failed, material = _usable_runs(runs, run_uuids, temperatures_K, suffix)
    # A noisy cold run may give σ ≤ 0: it stays in the (linear-space) fit and is reported as
    # an upper limit, since dropping it would keep only upward fluctuations and bias Ea low.
    error_dof = min((r.n_blocks - 1 for r in used if r.n_blocks), default=None)
    limits = [
        UpperLimit(
            temperature_K=r.temperature_K,
            conductivity_upper_mS_cm=upper_limit_mS_cm(
                sigma(r), getattr(r, f"conductivity{suffix}_stderr_mS_cm"), error_dof
            ),
            md_uuid=r.md_uuid,
        )
        for r in used
        if sigma(r) <= 0
    ]
    record: dict[str, Any] = {
        "study": study,
        "hubbard_u_eV": hubbard_u_eV,
        "form": form,
        "conductivity": conductivity,
        "temperatures_K": [r.temperature_K for r in used],
        "conductivities_mS_cm": [sigma(r) for r in used],
        "conductivity_stderrs_mS_cm": [
            getattr(r, f"conductivity{suffix}_stderr_mS_cm") for r in used
        ],
        "run_uuids": [r.md_uuid for r in used],
        "error_dof": error_dof,
        "upper_limits": limits,
        "failed_temperatures": failed,
        "extrapolation_K": extrapolation_K,
        **material,
    }
    if len(used) < min_temperatures:
        return ArrheniusDocument(
            **record,
            completed=False,
            failure_reason=f"{len(used)} temperature(s) finished; the fit needs {min_temperatures}",
        )
    try:
        fit = fit_arrhenius(
            np.array(record["temperatures_K"]),
            np.array(record["conductivities_mS_cm"]),
            np.array(record["conductivity_stderrs_mS_cm"]),
            form=form,  # type: ignore[arg-type]
            extrapolation_K=extrapolation_K,
            error_dof=error_dof,
        )
    except ValueError as error:  # e.g. fewer than two σ > 0
        return ArrheniusDocument(**record, completed=False, failure_reason=str(error))
    return ArrheniusDocument(
        **record,
        completed=True,
        activation_energy_eV=fit.activation_energy_eV,
        activation_energy_stderr_eV=fit.activation_energy_stderr_eV,
        prefactor=fit.prefactor,
        conductivity_298K_mS_cm=fit.conductivity_extrapolated_mS_cm,
        conductivity_298K_interval_mS_cm=list(fit.conductivity_extrapolated_interval_mS_cm),
    )


def _versions() -> dict[str, str]:
    found = {}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def conventional_lattice(structure: Any, supercell_matrix: list[list[int]] | None) -> dict:
    """Lattice parameters per input (conventional) cell: the supercell matrix divided out."""
    from pymatgen.core import Lattice

    matrix = structure.lattice.matrix
    if supercell_matrix is not None:
        matrix = np.linalg.solve(np.array(supercell_matrix, dtype=float), matrix)
    lattice = Lattice(matrix)
    a, b, c = lattice.abc
    alpha, beta, gamma = lattice.angles
    return {"a_A": a, "b_A": b, "c_A": c, "alpha_deg": alpha, "beta_deg": beta, "gamma_deg": gamma}


class RelaxInputs(BaseModel):
    """What the study document reads of a branch's relaxation (None: it did not finish)."""

    structure: Structure | None = None
    energy_per_atom: float | None = None
    hubbard_u_applied: bool | None = None


class AimdRunInputs(BaseModel):
    """One reference MD job (a temperature, or a segment of one)."""

    uuid: str
    walltime_s: float | None = None
    n_atoms: int | None = None
    n_frames: int | None = None


class TrainInputs(BaseModel):
    """What the study document reads of a branch's DeePMD training and its dataset."""

    validation: DeepmdErrorMetrics | None = None
    numb_steps: int | None = None
    n_frames: dict[str, int] | None = None

    @field_validator("n_frames", mode="before")
    @classmethod
    def _unfinished_dataset(cls, value: Any) -> Any:
        """A dataset job that did not finish resolves its counts to None: no counts then."""
        if isinstance(value, dict) and None in value.values():
            return None
        return value


class StudyBranchInputs(BaseModel):
    """The outputs and job uuids of one U branch that :func:`study_document` gathers."""

    hubbard_u_eV: dict[str, float]
    relax_uuid: str
    relax: RelaxInputs
    aimd: list[AimdRunInputs] = Field(default_factory=list)
    train_uuid: str | None = None
    train: TrainInputs | None = None
    learning_uuid: str | None = None
    learning: ConcurrentLearningDocument | None = None
    analyses: list[TransportRunDocument | None] = Field(default_factory=list)
    analysis_uuids: list[str] = Field(default_factory=list)
    arrhenius: ArrheniusDocument | None = None
    arrhenius_uuid: str | None = None


@job(output_schema=TransportStudyDocument)
def study_document(
    spec: dict[str, Any],
    cell_summary: dict[str, Any] | None,
    formula: str,
    branches: list[StudyBranchInputs | dict[str, Any]],
    neb_table: NebBarrierTable | dict | None,
    neb_uuid: str | None,
) -> TransportStudyDocument:
    """Gather every derived number, its uncertainty and its source job into one document.

    ``branches`` arrive as dicts of the outputs they reference (resolved by jobflow when the
    job starts; None for a job that did not finish) and are read as :class:`StudyBranchInputs`.
    """
    from litcl_flows.makers.reference import get_reference_engine

    engine = spec["reference_engine"]
    stand_in = get_reference_engine(engine).is_stand_in
    # The paper's and the experiment's values are shown only for the paper's material.
    known = formula == REFERENCE_MATERIAL
    matrix = cell_summary["supercell_matrix"] if cell_summary else None
    summaries, comparison, failures = [], [], []

    def compare(
        quantity: str, ours: float | None, uuid: str | None, u: dict | None, **extra: Any
    ) -> None:
        # The paper's lattice without U (STUDY_LATTICE_U0) beside a branch with no U > 0.
        no_u = u is not None and not any(value > 0 for value in u.values())
        study_values = STUDY_LATTICE_U0 if no_u else STUDY_VALUES
        comparison.append(
            ComparisonRow(
                quantity=quantity,
                hubbard_u_eV=u,
                ours=ours,
                study=study_values.get(quantity, STUDY_VALUES.get(quantity)) if known else None,
                experiment=EXPERIMENT_VALUES.get(quantity) if known else None,
                engine=extra.pop("engine", engine),
                stand_in=stand_in,
                source_uuid=uuid,
                **extra,
            )
        )

    for branch in (_as_model(b, StudyBranchInputs) for b in branches):
        summaries.append(
            _summarize_branch(branch, matrix, spec["aimd"]["n_steps"], compare, failures)
        )
    rows, neb_engine = _compare_neb(neb_table, neb_uuid, compare, failures)
    return TransportStudyDocument(
        study=spec["name"],
        material=formula,
        profile=spec["profile"],
        reference_engine=engine,
        is_stand_in=stand_in,
        mobile_species=spec["material"]["mobile_species"],
        spec=spec,
        ordered_cell=cell_summary,
        branches=summaries,
        neb_uuid=neb_uuid,
        neb_engine=neb_engine,
        neb_barriers=rows,
        comparison=comparison,
        failures=failures,
        versions=_versions(),
    )


def _summarize_branch(
    branch: StudyBranchInputs,
    matrix: list[list[int]] | None,
    aimd_n_steps: int,
    compare: Callable[..., None],
    failures: list[StudyFailure],
) -> BranchSummary:
    """One U branch's summary; its comparison rows go to ``compare``, failures to ``failures``."""
    u = branch.hubbard_u_eV
    relax = branch.relax
    lattice = None
    if relax.structure is None:
        failures.append(_failure("relax", u, None, "the relaxation did not finish", branch))
    else:
        lattice = conventional_lattice(relax.structure, matrix)
        for key in ("a_A", "b_A", "c_A", "beta_deg"):
            compare(f"lattice_{key}", lattice[key], branch.relax_uuid, u)
    light_runs = [
        r.model_copy(update={"msd": None, "rdf": None, "hop_traces": None})
        for r in branch.analyses
        if r is not None
    ]
    for r in light_runs:
        if not r.completed:
            failures.append(
                _failure("mlmd", u, r.temperature_K, r.failure_reason, branch, r.md_uuid)
            )
    _compare_arrhenius(branch, compare, failures)
    train = branch.train or TrainInputs()
    _compare_training(branch, train.validation, compare, failures)
    reference_cost = _reference_s_per_atom_step(branch.aimd, aimd_n_steps)
    mlmd_cost = _mlmd_s_per_atom_step(light_runs)
    speedup = reference_cost / mlmd_cost if reference_cost and mlmd_cost else None
    if speedup is not None:
        compare("mlmd_speedup", speedup, branch.train_uuid, u, engine="lammps+deepmd")
    return BranchSummary(
        hubbard_u_eV=u,
        hubbard_u_applied=relax.hubbard_u_applied,
        relax_uuid=branch.relax_uuid,
        relaxed_energy_eV_per_atom=relax.energy_per_atom,
        conventional_lattice=lattice,
        aimd_uuids=[a.uuid for a in branch.aimd],
        train_uuid=branch.train_uuid,
        deepmd_validation=train.validation,
        deepmd_n_frames=train.n_frames,
        learning_uuid=branch.learning_uuid,
        learning=branch.learning,
        runs=light_runs,
        analysis_uuids=branch.analysis_uuids,
        arrhenius=branch.arrhenius,
        arrhenius_uuid=branch.arrhenius_uuid,
        reference_s_per_atom_step=reference_cost,
        mlmd_s_per_atom_step=mlmd_cost,
        mlmd_speedup=speedup,
    )


def _compare_arrhenius(
    branch: StudyBranchInputs, compare: Callable[..., None], failures: list[StudyFailure]
) -> None:
    """The branch's Ea and σ(298 K) rows, or why its Arrhenius fit is missing."""
    u = branch.hubbard_u_eV
    arrhenius = branch.arrhenius
    if arrhenius is not None:
        if arrhenius.completed:
            compare(
                "activation_energy_eV",
                arrhenius.activation_energy_eV,
                branch.arrhenius_uuid,
                u,
                ours_stderr=arrhenius.activation_energy_stderr_eV,
            )
            compare(
                "conductivity_298K_mS_cm",
                arrhenius.conductivity_298K_mS_cm,
                branch.arrhenius_uuid,
                u,
                ours_interval=arrhenius.conductivity_298K_interval_mS_cm,
            )
        else:
            failures.append(
                _failure(
                    "arrhenius",
                    u,
                    None,
                    arrhenius.failure_reason,
                    branch,
                    branch.arrhenius_uuid,
                )
            )
    elif branch.arrhenius_uuid is not None:
        failures.append(
            _failure(
                "arrhenius",
                u,
                None,
                "the Arrhenius job did not finish",
                branch,
                branch.arrhenius_uuid,
            )
        )


def _compare_training(
    branch: StudyBranchInputs,
    validation: DeepmdErrorMetrics | None,
    compare: Callable[..., None],
    failures: list[StudyFailure],
) -> None:
    """The branch's DeePMD validation errors, or why its training is missing."""
    u = branch.hubbard_u_eV
    if validation is not None:
        compare(
            "force_mae_eV_A",
            validation.force_mae_eV_A,
            branch.train_uuid,
            u,
            engine="deepmd",
        )
        compare(
            "energy_mae_eV_per_atom",
            validation.energy_mae_eV_per_atom,
            branch.train_uuid,
            u,
            engine="deepmd",
        )
    elif branch.train_uuid is not None:
        failures.append(
            _failure("train", u, None, "DeePMD training did not finish", branch, branch.train_uuid)
        )


def _compare_neb(
    neb_table: NebBarrierTable | dict | None,
    neb_uuid: str | None,
    compare: Callable[..., None],
    failures: list[StudyFailure],
) -> tuple[list[BarrierTableRow] | None, str | None]:
    """The NEB barrier rows and their engine (None, None without a table); unconverged hops
    and a missing NEB step go to ``failures``."""
    rows = None
    neb_engine = None
    if neb_table is not None:
        rows = _as_model(neb_table, NebBarrierTable).rows
        for row in rows:
            neb_engine = row.engine
            # The study's barrier only for the hop of its geometry (study_label), never by a
            # coincidence of labels: other hops carry their mechanism in the name.
            label = row.study_label or f"{row.direction_label}_{row.mechanism}"
            compare(
                f"barrier_{label}_eV", row.forward_barrier_eV, neb_uuid, None, engine=row.engine
            )
            if not row.converged:
                failures.append(
                    StudyFailure(
                        step="neb",
                        hubbard_u_eV=None,
                        temperature_K=None,
                        reason=f"NEB {row.direction_label} did not converge",
                        uuid=neb_uuid,
                    )
                )
    elif neb_uuid is not None:
        failures.append(
            StudyFailure(
                step="neb",
                hubbard_u_eV=None,
                temperature_K=None,
                reason="the NEB step did not finish",
                uuid=neb_uuid,
            )
        )
    return rows, neb_engine


def _failure(
    step: str,
    u: dict,
    temperature_K: float | None,
    reason: str | None,
    branch: StudyBranchInputs,
    uuid: str | None = None,
) -> StudyFailure:
    return StudyFailure(
        step=step,  # type: ignore[arg-type]
        hubbard_u_eV=u,
        temperature_K=temperature_K,
        reason=reason,
        uuid=uuid or branch.relax_uuid,
    )


def _reference_s_per_atom_step(aimd: list[AimdRunInputs], n_steps: int) -> float | None:
    """Wall time per atom and MD step of the reference runs that report one."""
    timed = [a for a in aimd if a.walltime_s and a.n_atoms]
    if not timed:
        return None
    return sum(a.walltime_s for a in timed) / sum(a.n_atoms * n_steps for a in timed)


def _mlmd_s_per_atom_step(runs: list[TransportRunDocument]) -> float | None:
    """Mean LAMMPS wall time per atom and step over the runs (from LAMMPS's own timing)."""
    costs = [
        1 / (1000 * r.md_throughput_katom_step_s) for r in runs if r.md_throughput_katom_step_s
    ]
    return float(np.mean(costs)) if costs else None
