"""Documents of the study's analysis steps and the one ``TransportStudy`` document per study.

Transport keys are the project's (docs/study.md): ``D_self_cm2_s``, ``D_total_cm2_s``,
``haven_ratio``, ``conductivity_mS_cm``, each with a ``*_stderr`` sibling;
``activation_energy_eV`` and ``conductivity_298K_mS_cm``. Every derived number names the job
(``*_uuid``) whose output it came from.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from litcl_flows.analysis.transport_numbers import TransportNumbers
from litcl_flows.schemas.barriers import BarrierTableRow
from litcl_flows.schemas.base import DocumentMeta, MaterialMeta, fill_material, package_versions
from litcl_flows.schemas.deepmd import DeepmdErrorMetrics
from litcl_flows.schemas.learning import ConcurrentLearningDocument

if TYPE_CHECKING:
    from litcl_flows.analysis.md_run import MDRunAnalysis
    from litcl_flows.schemas.lammps import LammpsMDDocument

#: The reference study's values (docs/study.md), for side-by-side reporting.
STUDY_VALUES: dict[str, float] = {
    "activation_energy_eV": 0.29,
    "conductivity_298K_mS_cm": 1.06,
    "lattice_a_A": 6.398,
    "lattice_b_A": 10.95,
    "lattice_c_A": 6.381,
    "lattice_beta_deg": 110.8,
    "barrier_[110]_eV": 0.30,
    "barrier_[101]_eV": 0.303,
    "barrier_[010]_eV": 0.312,
    "barrier_[100]_eV": 1.14,
    "force_mae_eV_A": 5.959e-3,
    "energy_mae_eV_per_atom": 6.723e-4,
    "mlmd_speedup": 3730.0,
}
#: The study's relaxed lattice with U_eff = 0 (the reference study), for U = 0 branches.
STUDY_LATTICE_U0: dict[str, float] = {
    "lattice_a_A": 6.451,
    "lattice_b_A": 11.02,
    "lattice_c_A": 6.413,
    "lattice_beta_deg": 110.9,
}
#: Experiment (the reference study): annealed Li3TiCl6.
EXPERIMENT_VALUES: dict[str, float] = {
    "activation_energy_eV": 0.32,
    "conductivity_298K_mS_cm": 1.04,
    "lattice_a_A": 6.350,
    "lattice_b_A": 10.89,
    "lattice_c_A": 6.353,
    "lattice_beta_deg": 110.1,
}


class RdfComparison(BaseModel):
    """g(r) of one pair from ML-MD and from the reference AIMD."""

    pair: str = Field(description="Element pair, e.g. 'Cl-Ti'.")
    r_A: list[float] = Field(description="Bin centres, Å.")
    g_mlmd: list[float] = Field(description="g(r) of the ML-MD run.")
    g_reference: list[float] | None = Field(description="g(r) of the reference AIMD run.")
    first_peak_mlmd_A: float | None = Field(description="First-peak position, ML-MD, Å.")
    first_peak_reference_A: float | None = Field(description="First-peak position, AIMD, Å.")
    similarity: float | None = Field(
        description="1 − normalised L1 distance of the two curves (1: identical)."
    )


def _stored_type(annotation: Any) -> Any:
    """The document's type of a number: None until the run is analysed, pairs as lists."""
    return (list[float] if typing.get_origin(annotation) is tuple else annotation) | None


def _number_fields() -> dict[str, Any]:
    """The numbers of :class:`~litcl_flows.analysis.transport_numbers.TransportNumbers`, with
    their descriptions, as document fields."""
    types = typing.get_type_hints(TransportNumbers)
    return {
        number.name: (
            _stored_type(types[number.name]),
            Field(None, description=number.metadata["description"]),
        )
        for number in dataclasses.fields(TransportNumbers)
    }


#: The transport numbers of a run (those of ``litcl analyze --json`` and σ from D_self).
TransportNumberFields = create_model(
    "TransportNumberFields",
    __doc__="D, H_R and σ of one run with their error bars, fit settings and diffusion checks.",
    **_number_fields(),
)


class TransportRunDocument(TransportNumberFields, MaterialMeta, DocumentMeta):
    """Transport of the mobile ion in one ML-MD run (one U, one temperature).

    ``formula_pretty`` and ``chemsys`` are the MD cell's (from the LAMMPS document); the
    transport numbers are :class:`TransportNumberFields`, None when the run did not finish.
    """

    study: str = Field(description="Study name.")
    hubbard_u_eV: dict[str, float] = Field(description="U_eff set of the branch, eV.")
    temperature_K: float = Field(description="Thermostat temperature, K.")
    completed: bool = Field(description="True when the analysis ran on a finished MD run.")
    failure_reason: str | None = Field(None, description="Why there is no result.")
    md_uuid: str = Field(description="uuid of the LAMMPS job analysed.")
    engine: str = Field("lammps+deepmd", description="Engine of the analysed trajectory.")
    host_msd_A2: float | None = Field(
        None, description="MSD of the non-mobile atoms over the run, Å² (a solid: vibration)."
    )
    warnings: list[str] = Field(default_factory=list, description="Analysis warnings.")
    msd: dict[str, list[float]] | None = Field(
        None,
        description="time_ps, self_A2, total_A2, distinct_A2 (Σ over x, y, z; the distinct "
        "part is total − self, per ion). Data store.",
    )
    rdf: list[RdfComparison] | None = Field(None, description="RDF comparison (data store).")
    rdf_reference_temperature_K: float | None = Field(
        None, description="Temperature of the AIMD run the RDF is compared with, K."
    )
    hops: dict | None = Field(
        None, description="Hop counts: intra- and inter-layer, per ion, stacking normal."
    )
    hop_traces: dict[str, list] | None = Field(
        None,
        description="time_ps and layer index per ion against time (a few ions; data store).",
    )
    md_throughput_katom_step_s: float | None = Field(
        None, description="LAMMPS speed of the run, thousand atom-steps per second."
    )
    md_n_atoms: int | None = Field(None, description="Atoms in the ML-MD cell.")
    md_temperature_mean_K: float | None = Field(None, description="Mean MD temperature, K.")
    stop_reason: str | None = Field(
        None,
        description="Why the ML-MD run stopped: 'converged' (its D_self met the run-length "
        "target with the guards, analysis/run_length.py), 'max_length' (mlmd.n_steps reached "
        "first), 'fixed_length' (no run-length rule: it ran mlmd.n_steps); None: no ML-MD "
        "document.",
    )
    stop_explanation: str | None = Field(
        None,
        description="The last run-length verdict in one line: the criteria met or missed, "
        "with their values (None: fixed length).",
    )
    stop_length_ps: float | None = Field(
        None,
        description="Length of the run at its last run-length verdict, after equilibration, "
        "ps (None: fixed length).",
    )
    n_run_length_verdicts: int = Field(
        0, description="Run-length verdicts taken during the run (0: fixed length)."
    )
    out_of_domain_fraction: float | None = Field(
        None,
        description="Fraction of the run's frames (after equilibration) whose force deviation "
        "across the ensemble reaches the lower trust level: where the potential is not "
        "trusted (None: one model, no deviation).",
    )
    max_devi_f_mean_eV_A: float | None = Field(
        None, description="Mean over those frames of the largest atomic force deviation, eV/Å."
    )
    deviation_level_f_lo_eV_A: float | None = Field(
        None, description="The lower trust level of out_of_domain_fraction, eV/Å."
    )

    @staticmethod
    def stop_fields(md: LammpsMDDocument) -> dict[str, Any]:
        """``stop_reason`` and the last run-length verdict of an ML-MD run's document."""
        if not md.run_length:
            return {"stop_reason": "fixed_length"}
        last = md.run_length[-1]
        return {
            "stop_reason": md.stop_reason,
            "stop_explanation": last.explanation,
            "stop_length_ps": last.length_ps,
            "n_run_length_verdicts": len(md.run_length),
        }

    @staticmethod
    def deviation_fields(md: LammpsMDDocument) -> dict[str, Any]:
        """The fraction out of domain of an ML-MD run's model deviation (none: one model)."""
        deviation = md.model_deviation
        if deviation is None:
            return {}
        return {
            "out_of_domain_fraction": deviation.out_of_domain_fraction,
            "max_devi_f_mean_eV_A": deviation.max_devi_f_mean_eV_A,
            "deviation_level_f_lo_eV_A": deviation.level_f_lo_eV_A,
        }

    @classmethod
    def from_analysis(
        cls,
        analysis: MDRunAnalysis,
        md: LammpsMDDocument,
        rdf_reference_temperature_K: float | None,
        **fields: Any,
    ) -> TransportRunDocument:
        """The document of a finished run from its analysis and its LAMMPS document.

        Parameters
        ----------
        analysis
            :func:`~litcl_flows.analysis.md_run.analyze_md_run` of the run.
        md
            The run's LAMMPS document (speed, cell size, mean temperature).
        rdf_reference_temperature_K
            Temperature of the AIMD run the RDF was compared with (None: none).
        **fields
            ``study``, ``hubbard_u_eV``, ``temperature_K``, ``md_uuid`` and the material.
        """
        transport = analysis.transport.reported()
        # H_R is NaN when D_total ≤ 0, an exponent when the MSD is 0: stored as None (no NaN
        # in JSON). The thermostat temperature comes with ``fields``.
        for key in ("haven_ratio", "haven_ratio_stderr", "msd_exponent_self", "msd_exponent_total"):
            transport[key] = _finite(transport[key])
        del transport["temperature_K"]
        return cls(
            **fields,
            completed=True,
            **transport,
            host_msd_A2=analysis.host_msd_A2,
            warnings=list(analysis.warnings),
            msd=analysis.msd,
            rdf=analysis.rdf,
            rdf_reference_temperature_K=rdf_reference_temperature_K,
            hops=analysis.hops,
            hop_traces=analysis.hop_traces,
            md_throughput_katom_step_s=md.throughput_katom_step_s,
            md_n_atoms=md.n_atoms,
            md_temperature_mean_K=md.temperature_mean_K,
        )


class UpperLimit(BaseModel):
    """A run whose σ came out ≤ 0: kept in the fit, reported as an upper limit."""

    temperature_K: float = Field(description="Thermostat temperature, K.")
    conductivity_upper_mS_cm: float = Field(
        description="One-sided 95 % Student-t upper limit of σ, mS/cm."
    )
    md_uuid: str = Field(description="uuid of the LAMMPS job.")


class FailedTemperature(BaseModel):
    """A temperature left out of the fit, and why."""

    temperature_K: float = Field(description="Thermostat temperature, K.")
    reason: str | None = Field(description="Why it was left out.")
    md_uuid: str = Field(description="uuid of the LAMMPS job.")


class ArrheniusDocument(MaterialMeta, DocumentMeta):
    """Arrhenius fit of σ(T) over the finished temperatures of one U branch.

    ``formula_pretty`` and ``chemsys`` are those of the runs fitted.
    """

    study: str = Field(description="Study name.")
    hubbard_u_eV: dict[str, float] = Field(description="U_eff set of the branch, eV.")
    completed: bool = Field(description="True when the fit ran.")
    failure_reason: str | None = Field(None, description="Why there is no fit.")
    form: str = Field(description="'sigma' (σ = σ0 e^(−Ea/kT)) or 'sigma_T' (σT = A e^(…)).")
    conductivity: Literal["total", "self"] = Field(
        "total",
        description="Which Nernst–Einstein σ was fitted: 'total' (from D_total, correlated) "
        "or 'self' (from D_self, H_R = 1).",
    )
    temperatures_K: list[float] = Field(description="Temperatures used in the fit, K.")
    conductivities_mS_cm: list[float] = Field(description="σ used, mS/cm (same order).")
    conductivity_stderrs_mS_cm: list[float] = Field(description="Their standard errors.")
    run_uuids: list[str] = Field(description="uuids of the LAMMPS jobs of those σ.")
    error_dof: int | None = Field(
        None, description="Degrees of freedom of those standard errors (n_blocks − 1)."
    )
    upper_limits: list[UpperLimit] = Field(
        default_factory=list,
        description="Each run whose σ came out ≤ 0: reported as a one-sided 95 % Student-t "
        "upper limit and kept in the fit (dropping it would bias Ea low).",
    )
    failed_temperatures: list[FailedTemperature] = Field(
        default_factory=list, description="Each run left out of the fit."
    )
    activation_energy_eV: float | None = Field(
        None, description="Activation energy Ea of the fit, eV (None: no fit)."
    )
    activation_energy_stderr_eV: float | None = Field(
        None, description="Standard error of Ea, eV (from the σ standard errors)."
    )
    prefactor: float | None = Field(None, description="σ0 (mS/cm) or A (mS K/cm).")
    extrapolation_K: float = Field(298.15, description="Extrapolation temperature, K.")
    conductivity_298K_mS_cm: float | None = Field(
        None, description="σ extrapolated to extrapolation_K, mS/cm."
    )
    conductivity_298K_interval_mS_cm: list[float] | None = Field(
        None, description="95 % confidence interval of that σ."
    )


class ComparisonRow(BaseModel):
    """One line of 'ours vs the study vs experiment'."""

    quantity: str = Field(description="Key, e.g. 'activation_energy_eV' or 'barrier_[010]_eV'.")
    hubbard_u_eV: dict[str, float] | None = Field(None, description="Branch (None: study-wide).")
    ours: float | None = Field(description="Our value.")
    ours_stderr: float | None = Field(None, description="Its standard error.")
    ours_interval: list[float] | None = Field(None, description="Its 95 % interval.")
    study: float | None = Field(None, description="The reference study's value.")
    experiment: float | None = Field(None, description="The experimental value.")
    engine: str = Field(description="Engine our value rests on.")
    stand_in: bool = Field(description="True when an ML potential replaced DFT for it.")
    source_uuid: str | None = Field(None, description="Job whose output holds our value.")


class BranchSummary(BaseModel):
    """Everything of one U branch: relaxed cell, potential, runs, Arrhenius, speed-up."""

    hubbard_u_eV: dict[str, float] = Field(description="U_eff set, eV.")
    hubbard_u_applied: bool | None = Field(description="Whether the reference engine applied U.")
    relax_uuid: str = Field(description="Reference relaxation job.")
    relaxed_energy_eV_per_atom: float | None = Field(
        None, description="Energy per atom of the relaxed cell (reference engine), eV/atom."
    )
    conventional_lattice: dict[str, float] | None = Field(
        None,
        description="a_A, b_A, c_A, alpha/beta/gamma_deg of the relaxed cell per "
        "conventional cell (the supercell matrix divided out).",
    )
    aimd_uuids: list[str] = Field(description="Reference MD jobs (all temperatures, segments).")
    train_uuid: str | None = Field(None, description="DeePMD training job.")
    deepmd_validation: DeepmdErrorMetrics | None = Field(
        None, description="dp test errors on validation."
    )
    deepmd_n_frames: dict[str, int] | None = Field(None, description="train / valid frames.")
    learning_uuid: str | None = Field(
        None, description="Concurrent-learning loop (its first job; None: one model trained)."
    )
    learning: ConcurrentLearningDocument | None = Field(
        None, description="The loop's iterations and why it ended (None: no loop)."
    )
    runs: list[TransportRunDocument] = Field(
        description="Per temperature (without the data-store arrays)."
    )
    analysis_uuids: list[str] = Field(
        default_factory=list,
        description="Transport-analysis jobs, same order as runs (their outputs hold the MSD, "
        "RDF and hop-trace arrays).",
    )
    arrhenius: ArrheniusDocument | None = Field(
        None, description="The branch's Arrhenius fit (None: the job did not finish)."
    )
    arrhenius_uuid: str | None = Field(None, description="Arrhenius-fit job.")
    reference_s_per_atom_step: float | None = Field(
        None, description="Reference MD wall time per atom and step, s."
    )
    mlmd_s_per_atom_step: float | None = Field(
        None, description="ML-MD wall time per atom and step, s (all temperatures)."
    )
    mlmd_speedup: float | None = Field(
        None, description="Reference / ML-MD cost per atom-step, on the machines that ran them."
    )


class StudyFailure(BaseModel):
    """A step of the study that did not finish or did not converge."""

    step: Literal["relax", "train", "mlmd", "arrhenius", "neb"] = Field(
        description="Step of the study."
    )
    hubbard_u_eV: dict[str, float] | None = Field(description="Branch (None: study-wide).")
    temperature_K: float | None = Field(description="Temperature of an ML-MD run, K.")
    reason: str | None = Field(description="What went wrong.")
    uuid: str | None = Field(description="Job that failed (its branch's relaxation if unknown).")


class TransportStudyDocument(MaterialMeta, DocumentMeta):
    """The study's result: every derived number, its uncertainty and where it came from.

    ``formula_pretty`` and ``chemsys`` are read from ``material`` when not given.
    """

    study: str = Field(description="Study name.")
    material: str = Field(description="Reduced formula.")
    profile: str = Field(description="'paper' or 'demo'.")
    reference_engine: str = Field(description="'vasp' or 'chgnet'.")
    is_stand_in: bool = Field(description="True when an ML potential stood in for DFT+U.")
    mobile_species: str = Field(description="Mobile ion.")
    spec: dict = Field(description="The validated study spec.")
    ordered_cell: dict | None = Field(None, description="The ordered supercell's summary.")
    branches: list[BranchSummary] = Field(description="One per U set, in spec order.")
    neb_uuid: str | None = Field(None, description="NEB barrier-table job.")
    neb_engine: str | None = Field(None, description="Engine of the NEB.")
    neb_barriers: list[BarrierTableRow] | None = Field(
        None, description="Rows of the barrier table."
    )
    comparison: list[ComparisonRow] = Field(description="Ours vs the study vs experiment.")
    failures: list[StudyFailure] = Field(default_factory=list, description="What did not finish.")
    versions: dict[str, str] = Field(
        default_factory=package_versions,
        description="Versions of the packages that computed it, package name → version "
        "(litcl_flows, atomate2, jobflow, pymatgen, deepmd-kit, lammps, chgnet, …).",
    )

    @model_validator(mode="after")
    def _material_from_formula(self) -> TransportStudyDocument:
        if self.formula_pretty is None and self.chemsys is None:
            fill_material(self, self.material)
        return self


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
