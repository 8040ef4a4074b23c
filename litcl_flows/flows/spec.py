"""The study spec: one YAML file, validated by pydantic before anything is queued.

Unknown keys, wrong types and missing files are errors naming the field, so a typo never
silently falls back to a default on a cluster allocation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from litcl_flows.analysis.run_length import DEFAULT_MIN_HOPS_PER_ION, DEFAULT_TARGET_REL_STDERR
from litcl_flows.defaults import (
    DEFAULT_LEVEL_F_HI_EV_A,
    DEFAULT_LEVEL_F_LO_EV_A,
    LEARNING_CONVERGED_FRACTION,
    LEARNING_EXPLORATION_EVERY,
    LEARNING_EXPLORATION_STEPS,
    LEARNING_MAX_ITERATIONS,
    LEARNING_MAX_LABELLED,
    LEARNING_N_MODELS,
    MD_DUMP_ALL_EVERY,
    MD_DUMP_MOBILE_EVERY,
    MD_RESTART_EVERY,
    MD_THERMO_EVERY,
    RUN_LENGTH_CHECK_EVERY_STEPS,
)
from litcl_flows.engines.deepmd.inputs import (
    DeepmdSettingError,
    DeepmdTrainingInput,
    warn_on_schedule,
)
from litcl_flows.structures.library import BUILTIN_STRUCTURES, resolve_structure_source

if TYPE_CHECKING:
    from litcl_flows.flows.study import TransportStudyMaker
    from litcl_flows.makers.reference import ReferenceEngine

SPEC_VERSION = 1

#: The Arrhenius fit needs this many temperatures for an error bar from the scatter.
MIN_ARRHENIUS_TEMPERATURES = 3
_DIRECTION = re.compile(r"\[(-?\d){3}\]")
#: Seeds of numpy's generators (ordering search, disordered cell): stored as BSON int64, so
#: bounded like numpy's legacy uint32 seeds.
MAX_NUMPY_SEED = 2**32 - 1
#: LAMMPS ``velocity create`` takes a seed in 1 … 2**31 − 1 (0 is illegal; more overflows).
MAX_LAMMPS_SEED = 2**31 - 1


class SpecError(ValueError):
    """A study spec that cannot be used; the message is one line naming the file and field."""


class _Strict(BaseModel):
    # inf and nan (YAML .inf, .nan) are refused in every float field.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SupercellSpec(_Strict):
    """The ordered cell the reference engine computes (whole atoms on partially occupied sites)."""

    n_atoms: PositiveInt = Field(
        160, description="Atoms in the ordered cell (study: 160, 2×2×2 conventional cells)."
    )
    site_occupancies: dict[str, dict[str, float]] | None = Field(
        None,
        description="Target occupancies, site (Wyckoff '2a' or CIF label) → element → fraction, "
        "e.g. {2a: {Ti: 0.754}, 4g: {Ti: 0.123}}; None: the structure's own.",
    )
    seed: int = Field(
        0,
        ge=0,
        le=MAX_NUMPY_SEED,
        description="Seed of the ordering search (deterministic per seed), 0 … 2**32 − 1.",
    )
    n_samples: PositiveInt = Field(
        5000, description="Arrangements enumerated, or random starts when there are more."
    )

    @field_validator("n_atoms")
    @classmethod
    def _orderable(cls, value: int) -> int:
        from litcl_flows.structures.ordering import check_ordered_size

        try:
            check_ordered_size(value)
        except ValueError as error:
            raise PydanticCustomError("too_many_atoms", "{error}", {"error": str(error)}) from None
        return value


class MaterialSpec(_Strict):
    """The material under study."""

    structure: str = Field(
        description="Built-in structure name (li3ticl6) or a structure file (CIF, POSCAR) "
        "relative to the spec file; stored resolved."
    )
    mobile_species: str = Field("Li", description="Element whose transport is studied.")
    supercell: SupercellSpec | None = Field(
        default_factory=SupercellSpec,
        description="Ordered supercell; None: the input cell, each site given to its majority "
        "species (a quick look, not a production cell).",
    )

    @field_validator("structure")
    @classmethod
    def _structure_exists(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        try:
            path = resolve_structure_source(value, base_dir)
        except FileNotFoundError as error:
            raise PydanticCustomError("file_not_found", str(error)) from None
        return value if value.lower() in BUILTIN_STRUCTURES else str(path.absolute())

    @model_validator(mode="after")
    def _mobile_species_present(self) -> MaterialSpec:
        from litcl_flows.structures.library import load_structure

        try:
            elements = {el.symbol for el in load_structure(self.structure).composition.elements}
        except (ValueError, OSError) as error:
            raise PydanticCustomError(
                "unreadable_structure", "{error}", {"error": str(error).splitlines()[0]}
            ) from None
        if self.mobile_species not in elements:
            raise PydanticCustomError(
                "mobile_species_absent",
                "mobile_species {species} is not in the structure (it holds {elements})",
                {"species": self.mobile_species, "elements": ", ".join(sorted(elements))},
            )
        return self


class RelaxSpec(_Strict):
    """Relaxation of the ordered cell by the reference engine, once per U."""

    fmax_eV_A: PositiveFloat = Field(
        0.01, description="Force convergence, eV/Å (study: 10 meV/Å; VASP EDIFFG = −value)."
    )
    max_steps: PositiveInt = Field(500, description="CHGNet: optimiser step limit.")
    relax_cell: bool = Field(True, description="Relax lattice parameters as well as positions.")
    encut_eV: PositiveFloat = Field(450.0, description="VASP: plane-wave cut-off, eV.")
    kpoint_mesh: tuple[PositiveInt, PositiveInt, PositiveInt] | None = Field(
        None, description="VASP: Γ-centred k-mesh (study: 4×2×4 for 160 atoms); None: by density."
    )
    double_relax: bool = Field(True, description="VASP: two consecutive ISIF 3 runs.")


class AimdSpec(_Strict):
    """NVT MD with the reference engine: the DeePMD training data (per U, per temperature)."""

    temperatures_K: list[PositiveFloat] = Field(
        [600.0, 900.0, 1200.0], min_length=1, description="Thermostat temperatures, K."
    )
    n_steps: PositiveInt = Field(5000, description="Steps per temperature (per segment for VASP).")
    time_step_fs: PositiveFloat = Field(1.0, description="Time step, fs (study: 1 fs).")
    traj_interval: PositiveInt = Field(1, description="CHGNet: keep every this many steps.")
    velocity_seed: int = Field(
        1,
        ge=0,
        le=MAX_NUMPY_SEED,
        description="CHGNet: seed of the initial Maxwell–Boltzmann velocities, 0 … 2**32 − 1, "
        "so the training data (and the potential) are the same each run; VASP draws its own.",
    )
    n_segments: PositiveInt = Field(
        1, description="VASP: walltime-sized runs chained per temperature, each restarting."
    )
    kpoint_mesh: tuple[PositiveInt, PositiveInt, PositiveInt] | Literal["relax", "gamma"] = Field(
        "relax",
        description="VASP: k-points of the AIMD: 'relax' the relaxation's (relax.kpoint_mesh, "
        "else its density rule on the relaxed cell); 'gamma' Γ only (cheaper by the number of "
        "k-points, forces less converged); or an explicit Γ-centred mesh [n1, n2, n3].",
    )

    @field_validator("kpoint_mesh", mode="before")
    @classmethod
    def _mesh_word(cls, value: Any) -> Any:
        # A misspelt word would otherwise surface as "Input should be a valid tuple".
        if isinstance(value, str) and value not in ("relax", "gamma"):
            raise PydanticCustomError(
                "kpoint_mesh",
                "'{value}' is not 'relax', 'gamma' or a mesh [n1, n2, n3]",
                {"value": value},
            )
        return value


class DeepmdSpec(_Strict):
    """DeePMD-kit training (``se_e2_a``) on the AIMD frames, once per U."""

    preset: Literal["paper", "demo"] | None = Field(
        None,
        description="Model preset: 'paper' (the study's nets and 1e4 steps) or 'demo' (small "
        "nets); None: the spec's profile.",
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="DeepmdTrainingInput fields replacing the preset's (rcut_A, numb_steps, …).",
    )
    valid_fraction: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="Fraction held out for validation (dp test): of each AIMD run's kept "
        "frames (split 'blocks'), or of whole runs (split 'trajectories').",
    )
    split: Literal["blocks", "trajectories"] = Field(
        "blocks",
        description="'blocks': the last valid_fraction of every AIMD run in time, gap_fs after "
        "the last training frame; 'trajectories': whole runs (e.g. another temperature).",
    )
    frame_stride_fs: PositiveFloat = Field(
        10.0,
        description="Keep one AIMD frame every this many fs (whole frames, rounded up): frames "
        "1 fs apart are near copies of each other.",
    )
    gap_fs: NonNegativeFloat = Field(
        100.0,
        description="Least time, fs, between a run's last training frame and its first "
        "validation frame (split 'blocks'); 100 fs: about where the force and energy "
        "autocorrelations of the demo's CHGNet MD reach zero.",
    )
    compress: bool = Field(True, description="Compress the frozen model (faster MD).")
    threads: PositiveInt | None = Field(None, description="Threads per dp process.")

    @field_validator("overrides")
    @classmethod
    def _known_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        known = set(DeepmdTrainingInput.__dataclass_fields__)
        unknown = sorted(set(value) - known)
        if unknown:
            raise PydanticCustomError(
                "unknown_setting",
                "unknown DeePMD setting(s) {names}; known: {known}",
                {"names": ", ".join(unknown), "known": ", ".join(sorted(known))},
            )
        return value

    @staticmethod
    def _preset_input(preset: str, overrides: dict[str, Any]) -> DeepmdTrainingInput:
        """A preset's training input ('demo' or the study's) with some fields replaced."""
        if preset == "demo":
            return DeepmdTrainingInput.demo(**overrides)
        return DeepmdTrainingInput(**overrides)

    @field_validator("overrides")
    @classmethod
    def _settings_valid(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # Ranges and DeePMD-kit's own type check, for each preset the overrides may meet.
        preset = info.data.get("preset")
        for name in [preset] if preset else ["paper", "demo"]:
            try:
                cls._preset_input(name, value).check()
            except DeepmdSettingError as error:
                # Name the preset when the problem involves one of its values.
                where = ""
                if not set(error.fields) <= set(value):
                    where = f" (preset {name})" if preset else f" (profile {name})"
                raise PydanticCustomError(
                    "bad_setting", "{error}{where}", {"error": str(error), "where": where}
                ) from None
        return value

    @field_validator("overrides")
    @classmethod
    def _schedule_fits(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # The paper's schedule stays as the study gives it, with a warning; a null preset
        # follows the study's profile, which this section does not see: both are checked.
        preset = info.data.get("preset")
        for name in [preset] if preset else ["paper", "demo"]:
            where = f"deepmd (preset {name})" if preset else f"deepmd (profile {name})"
            try:
                warn_on_schedule(cls._preset_input(name, value), where)
            except (TypeError, ValueError) as error:
                raise PydanticCustomError(
                    "bad_schedule", "learning rate: {error}", {"error": str(error)}
                ) from None
        return value

    def training_input(self, profile: str) -> DeepmdTrainingInput:
        """The training input of this spec: preset (or profile) with the overrides applied."""
        return self._preset_input(self.preset or profile, self.overrides)

    def dataset_settings(self, frame_interval_fs: float) -> dict[str, Any]:
        """Keyword arguments of ``DeepmdDatasetMaker``: the split, and the spacing of the AIMD
        frames, fs (``AimdTemperaturesMaker.frame_interval_fs``)."""
        return {
            "valid_fraction": self.valid_fraction,
            "split": self.split,
            "frame_interval_fs": frame_interval_fs,
            "frame_stride_fs": self.frame_stride_fs,
            "gap_fs": self.gap_fs,
        }


class LearningSpec(_Strict):
    """Concurrent learning (DP-GEN's loop, makers/learning.py) in place of the one training.

    Per U: train an ensemble on the reference MD, explore the relaxed cell with LAMMPS at
    ``temperatures_K`` while the other models give the force deviation, label the frames
    between the trust levels with the reference engine, retrain; until at most
    ``converged_fraction`` of the explored frames reach the lower level, or
    ``max_iterations``. The production ML-MD then runs the last ensemble: its first model
    drives, the others give each run's fraction of frames out of domain.
    """

    enabled: bool = Field(False, description="Run the loop; False: one model, no deviation.")
    n_models: int = Field(
        LEARNING_N_MODELS, ge=2, description="Models per ensemble (DP-GEN uses 4)."
    )
    temperatures_K: list[PositiveFloat] | None = Field(
        None,
        description="Exploration temperatures, K; None: the lowest and highest of "
        "mlmd.temperatures_K.",
    )
    n_steps: PositiveInt = Field(
        LEARNING_EXPLORATION_STEPS,
        description="Exploration MD steps per temperature, in the relaxed reference cell (so "
        "that the reference engine can label its frames).",
    )
    every_steps: PositiveInt = Field(
        LEARNING_EXPLORATION_EVERY,
        description="Steps between two evaluated (and whole-dumped) exploration frames.",
    )
    level_f_lo_eV_A: PositiveFloat = Field(
        DEFAULT_LEVEL_F_LO_EV_A,
        description="Lower trust level of max_devi_f, eV/Å: frames below it are trusted.",
    )
    level_f_hi_eV_A: PositiveFloat = Field(
        DEFAULT_LEVEL_F_HI_EV_A,
        description="Upper trust level, eV/Å: frames at or above it failed (not labelled).",
    )
    adaptive_min_frames: int = Field(
        0,
        ge=0,
        description="Adaptive lower level (dpgen2): label at least this many non-failed frames "
        "of largest deviation; 0 (and adaptive_rate 0): fixed levels.",
    )
    adaptive_rate: float = Field(
        0.0, ge=0, le=1, description="Or this fraction of the explored frames, if more."
    )
    max_labelled: PositiveInt = Field(
        LEARNING_MAX_LABELLED, description="Most frames labelled per iteration."
    )
    converged_fraction: float = Field(
        LEARNING_CONVERGED_FRACTION,
        ge=0,
        lt=1,
        description="The loop stops when at most this fraction of explored frames is at or "
        "above the lower level.",
    )
    max_iterations: PositiveInt = Field(
        LEARNING_MAX_ITERATIONS, description="Most ensembles trained."
    )
    seed: int = Field(0, ge=0, le=MAX_NUMPY_SEED, description="Seed of the frames picked.")

    @model_validator(mode="after")
    def _levels_ordered(self) -> LearningSpec:
        if self.level_f_lo_eV_A >= self.level_f_hi_eV_A:
            raise PydanticCustomError(
                "trust_levels",
                "level_f_lo_eV_A {lo} must be below level_f_hi_eV_A {hi}",
                {"lo": self.level_f_lo_eV_A, "hi": self.level_f_hi_eV_A},
            )
        return self


class RunLengthSpec(_Strict):
    """When an ML-MD run has run long enough: the rule of :mod:`litcl_flows.analysis.run_length`.

    The run stops once D_self (and σ, when asked) is known to the target, its MSD is
    diffusive over the fit window and the ions have hopped enough; else at ``mlmd.n_steps``.
    """

    rel_stderr_D_self: PositiveFloat = Field(
        DEFAULT_TARGET_REL_STDERR,
        description="Largest relative standard error of D_self at which a run stops (0.1: "
        "Ea to about 0.015 eV over the study's six temperatures).",
    )
    rel_stderr_conductivity: PositiveFloat | None = Field(
        None,
        description="Same for the Nernst–Einstein σ from D_total; None: not required.",
    )
    min_hops_per_ion: NonNegativeFloat = Field(
        DEFAULT_MIN_HOPS_PER_ION,
        description="Hops each mobile ion must have made on average before a run may stop "
        "(5: one per block of the default five), a guard against a lucky early estimate.",
    )
    max_exponent_deviation: PositiveFloat | None = Field(
        None,
        description="Largest |d ln MSD_self / d ln t − 1| over the fit window at which a run "
        "may stop; None: analysis.max_msd_exponent_deviation.",
    )
    check_every_steps: PositiveInt = Field(
        RUN_LENGTH_CHECK_EVERY_STEPS,
        description="MD steps between two verdicts, each on the whole run so far (the first "
        "after equilibration_steps + this).",
    )


class MlmdSpec(_Strict):
    """LAMMPS NVT with the DeePMD model, per U and per temperature (docs/lammps.md)."""

    n_atoms: PositiveInt = Field(
        20_000,
        description="Atoms in the MD cell: within ±2 % for 'disordered' (the widest such "
        "cell), at least this many for 'tiled'.",
    )
    cell: Literal["disordered", "tiled"] = Field(
        "disordered",
        description="'disordered': the disordered parent (material.structure at the "
        "supercell's site_occupancies) replicated to n_atoms, each partially occupied Wyckoff "
        "site filled with its whole-atom count at random sites of the whole cell, on the "
        "relaxed cell's lattice; 'tiled': the relaxed ordered cell repeated (a superlattice "
        "of one ordering, for comparison).",
    )
    cell_seed: int = Field(
        0,
        ge=0,
        le=MAX_NUMPY_SEED,
        description="Seed of the random placement ('disordered'), 0 … 2**32 − 1.",
    )
    temperatures_K: list[PositiveFloat] = Field(
        [298.0, 313.0, 328.0, 333.0, 358.0, 373.0],
        description="Thermostat temperatures, K: at least three for the Arrhenius fit.",
    )
    n_steps: PositiveInt = Field(
        5_500_000,
        description="MD steps (study: 5.5 ns at 1 fs); with run_length, the maximum length.",
    )
    run_length: RunLengthSpec | None = Field(
        None,
        description="Stop each run once D_self is known to a target (needs "
        "analysis.fit_window_ps); None: every run is n_steps long.",
    )
    time_step_fs: PositiveFloat = Field(1.0, description="Time step, fs.")
    tdamp_fs: PositiveFloat = Field(100.0, description="Nosé–Hoover damping time, fs.")
    minimize: bool = Field(True, description="CG energy minimisation before MD.")
    equilibration_steps: int = Field(
        50_000, ge=0, description="Steps left out of the temperature and transport statistics."
    )
    thermo_every: PositiveInt = Field(MD_THERMO_EVERY, description="Thermo output interval, steps.")
    dump_mobile_every: PositiveInt = Field(
        MD_DUMP_MOBILE_EVERY,
        description="Unwrapped mobile-ion positions every this many steps (MSD).",
    )
    dump_all_every: PositiveInt = Field(
        MD_DUMP_ALL_EVERY, description="All atoms every this many steps (RDF, layers)."
    )
    restart_every: PositiveInt = Field(
        MD_RESTART_EVERY,
        description="Restart file interval, steps (walltime chunks resume from it).",
    )
    seed: int = Field(
        12345,
        ge=1,
        le=MAX_LAMMPS_SEED,
        description="Seed of the initial velocities (LAMMPS velocity create), 1 … 2**31 − 1.",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        # Specs written before the rename would otherwise read "Extra inputs are not permitted".
        if isinstance(data, dict) and "timestep_fs" in data:
            raise PydanticCustomError(
                "renamed", "timestep_fs is now time_step_fs (as in the aimd section)"
            )
        return data

    @field_validator("temperatures_K")
    @classmethod
    def _enough_for_arrhenius(cls, value: list[float]) -> list[float]:
        if len(value) < MIN_ARRHENIUS_TEMPERATURES:
            raise PydanticCustomError(
                "too_few_temperatures",
                "{n} temperature(s); the Arrhenius fit needs at least {min}",
                {"n": len(value), "min": MIN_ARRHENIUS_TEMPERATURES},
            )
        if len(set(value)) != len(value):
            raise PydanticCustomError("duplicate_temperatures", "temperatures repeat")
        return value


class AnalysisSpec(_Strict):
    """Transport analysis of each ML-MD run and the Arrhenius fit (docs/analysis.md)."""

    fit_window_ps: tuple[NonNegativeFloat, PositiveFloat] | None = Field(
        None, description="Lag-time window of the MSD fits, ps; None: 10–50 % of one block."
    )

    @field_validator("fit_window_ps")
    @classmethod
    def _window_in_order(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and value[0] >= value[1]:
            raise PydanticCustomError(
                "reversed_window",
                "[{start}, {end}] ps: the start must come before the end",
                {"start": value[0], "end": value[1]},
            )
        return value

    n_blocks: int = Field(5, ge=2, description="Time blocks for the error bars.")
    stacking_hkl: tuple[int, int, int] | None = Field(
        None,
        description="Miller indices of the host-cation (Ti) layer planes in the ML-MD cell "
        "for hop counting; None: detected from the host cations.",
    )

    @field_validator("stacking_hkl")
    @classmethod
    def _plane(cls, value: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
        if value is not None and not any(value):
            raise PydanticCustomError("no_plane", "(0, 0, 0) is not a lattice plane")
        return value

    rdf_pairs: list[str] = Field(
        ["Cl-Ti", "Cl-Li", "Ti-Li", "Li-Li", "Cl-Cl"],
        description="Pairs of the RDF comparison (reference AIMD vs ML-MD).",
    )
    arrhenius_form: Literal["sigma", "sigma_T"] = Field(
        "sigma", description="Fit σ = σ0 exp(−Ea/kT) ('sigma') or σT ('sigma_T')."
    )
    max_host_msd_A2: PositiveFloat | None = Field(
        2.0,
        description="A run whose non-mobile atoms moved more than this (Å², over the run) is "
        "left out as molten or out of the potential's domain; None: no check.",
    )
    arrhenius_conductivity: Literal["total", "self"] = Field(
        "total",
        description="σ of the Arrhenius fit: 'total' (Nernst–Einstein from D_total, the "
        "study's) or 'self' (from D_self, H_R = 1: better determined in short runs).",
    )
    max_msd_exponent_deviation: PositiveFloat = Field(
        0.25,
        description="A run whose MSD exponent d ln MSD/d ln t over the fit window (self or "
        "total) differs from 1 by more than this is flagged as not diffusive.",
    )
    extrapolation_K: PositiveFloat = Field(298.15, description="Temperature of σ extrapolation.")


class NebSpec(_Strict):
    """Li migration barriers along crystal directions (docs/neb.md)."""

    enabled: bool = Field(True, description="Run the NEB step.")
    engine: Literal["deepmd", "reference"] = Field(
        "reference",
        description="'reference' (VASP CI-NEB, or CHGNet) or 'deepmd' (the trained potential, "
        "first U set).",
    )
    directions: list[str] = Field(
        ["[010]", "[310]", "[101]", "[013]"],
        min_length=1,
        description="Directions [uvw] of elementary hops, in the basis of material.structure "
        "(Li3TiCl6: conventional C2/m); the shortest hop along each, to a vacant Li site or "
        "an empty site. The study's [110] and [100] are 6.3 Å jumps, not elementary hops.",
    )
    max_hop_length_A: PositiveFloat = Field(
        4.0, description="Longest hop, Å (4: neighbouring sites only)."
    )
    vacant_site_hops: bool = Field(
        True,
        description="Also hop to the partially occupied sites of material.structure that the "
        "ordered cell leaves empty (Li3TiCl6: Ti-layer 4g/2a).",
    )
    num_images: PositiveInt = Field(5, description="Intermediate images.")
    fmax_eV_A: PositiveFloat = Field(0.05, description="NEB force convergence, eV/Å.")
    max_steps: PositiveInt = Field(500, description="ML NEB: optimiser step limit.")
    max_atoms: PositiveInt = Field(400, description="Largest NEB supercell.")
    min_image_distance_A: PositiveFloat = Field(
        8.0, description="Smallest vacancy–image distance, Å."
    )

    @field_validator("engine")
    @classmethod
    def _engine_available(cls, value: str) -> str:
        if value == "deepmd":
            # atomate2 0.1.5's ASE NEB deep-copies the calculator per image, and
            # deepmd-kit's DP calculator cannot be copied (DeepEval.__new__ needs its file).
            raise PydanticCustomError(
                "not_available",
                "NEB with the DeePMD model is not available yet (atomate2's NEB cannot copy "
                "the DeePMD calculator); use engine: reference",
            )
        return value

    @field_validator("directions")
    @classmethod
    def _miller(cls, value: list[str]) -> list[str]:
        for text in value:
            if not _DIRECTION.fullmatch(text) or not any(c in "123456789" for c in text):
                raise PydanticCustomError(
                    "direction", "'{text}' is not a direction like [110] or [1-10]", {"text": text}
                )
        return value


class StepResources(_Strict):
    """Where a step runs on a cluster: the FireWorks worker category, or one named worker."""

    category: str = Field(
        "cpu", description="FireWorks category of the step ('cpu' or 'gpu' workers)."
    )
    fworker: str | None = Field(None, description="Pin the step to the worker of this name.")
    walltime_s: PositiveInt | None = Field(
        None,
        description="Queue walltime of one job, s: long runs stop cleanly before it and "
        "continue in a follow-up job from their restart files.",
    )


class ResourcesSpec(_Strict):
    """Routing of each step to workers (FireWorks ``_category`` / ``_fworker``)."""

    relax: StepResources = Field(default_factory=StepResources)
    aimd: StepResources = Field(default_factory=StepResources)
    train: StepResources = Field(default_factory=StepResources)
    label: StepResources = Field(
        default_factory=StepResources,
        description="Concurrent learning's labelling of explored frames (reference engine).",
    )
    mlmd: StepResources = Field(default_factory=StepResources)
    analysis: StepResources = Field(default_factory=StepResources)
    neb: StepResources = Field(default_factory=StepResources)


#: Steps of a study in order; ``stop_after`` ends the flow after one of them.
STEPS: tuple[str, ...] = ("relax", "aimd", "train", "mlmd", "study")


class StudySpec(_Strict):
    """A transport study of one material (versioned; see workflows/*.yaml)."""

    version: Literal[1] = Field(SPEC_VERSION, description="Spec format version.")
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Study name: labels every stored document (letters, digits, _ . -).",
    )
    profile: Literal["paper", "demo"] = Field(
        "paper", description="'paper' or 'demo': the DeePMD preset and the report's label."
    )
    reference_engine: Literal["chgnet", "vasp"] = Field(
        "chgnet",
        description="'vasp' on clusters; 'chgnet' is the embedded stand-in.",
    )
    stop_after: Literal["relax", "aimd", "train", "mlmd", "study"] = Field(
        "study", description="Last step to run ('study': everything, then the study document)."
    )
    material: MaterialSpec
    hubbard_u_eV: list[dict[str, float]] = Field(
        default_factory=lambda: [{"Ti": 0.0}, {"Ti": 4.0}],
        min_length=1,
        description="One U_eff set per branch, element → eV (Dudarev); default: the Li3TiCl6 "
        "paper's Ti 0 and 4, so another material gives its own (every element in it).",
    )
    relax: RelaxSpec = Field(default_factory=RelaxSpec)
    aimd: AimdSpec = Field(default_factory=AimdSpec)
    deepmd: DeepmdSpec = Field(default_factory=DeepmdSpec)
    learning: LearningSpec = Field(default_factory=LearningSpec)
    mlmd: MlmdSpec = Field(default_factory=MlmdSpec)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    neb: NebSpec = Field(default_factory=NebSpec)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)

    @model_validator(mode="after")
    def _run_length_has_a_fixed_window(self) -> StudySpec:
        # A window of a fraction of the block grows with the run: the error would not fall.
        if self.mlmd.run_length is not None and self.analysis.fit_window_ps is None:
            raise PydanticCustomError(
                "run_length_window",
                "mlmd.run_length needs analysis.fit_window_ps [start, end] in ps: the fit "
                "window must stay the same from verdict to verdict (the default, 10–50 % of a "
                "block, grows with the run and its error would not fall)",
            )
        return self

    @model_validator(mode="after")
    def _runs_can_be_analysed(self) -> StudySpec:
        # The analysis job would fail after the whole ML-MD run: check its frame budget now,
        # with the analysis's own rule (frames after equilibration, blocks, fit window). With
        # run_length, n_steps is the longest a run gets: the window must fit by then.
        if not self.runs("mlmd"):
            return self
        from litcl_flows.analysis.transport import block_fit_window

        md = self.mlmd
        if md.equilibration_steps >= md.n_steps:
            raise PydanticCustomError(
                "no_production",
                "mlmd.equilibration_steps {eq} ≥ n_steps {n}: no steps left to analyse",
                {"eq": md.equilibration_steps, "n": md.n_steps},
            )
        n_frames = (md.n_steps - md.equilibration_steps) // md.dump_mobile_every + 1
        try:
            block_fit_window(
                n_frames,
                self.analysis.n_blocks,
                md.dump_mobile_every * md.time_step_fs / 1000.0,
                self.analysis.fit_window_ps,
            )
        except ValueError as error:
            raise PydanticCustomError(
                "run_too_short",
                "mlmd and analysis: {problem} (production frames = (n_steps − "
                "equilibration_steps) / dump_mobile_every + 1{maximum})",
                {
                    "problem": str(error),
                    "maximum": "; n_steps: the maximum length of mlmd.run_length"
                    if md.run_length is not None
                    else "",
                },
            ) from None
        return self

    @model_validator(mode="after")
    def _sel_per_species(self) -> StudySpec:
        # A list sel gives one neighbour count per species of the material, in type order.
        if not isinstance(self.deepmd.overrides.get("sel"), list):
            return self
        from litcl_flows.engines.deepmd.dataset import default_type_map
        from litcl_flows.structures.library import load_structure

        structure = load_structure(self.material.structure)
        type_map = default_type_map(structure.symbol_set)
        try:
            self.deepmd.training_input(self.profile).check(type_map)
        except DeepmdSettingError as error:
            raise PydanticCustomError(
                "sel_per_species", "deepmd.overrides: {error}", {"error": str(error)}
            ) from None
        return self

    @model_validator(mode="after")
    def _u_elements_present(self) -> StudySpec:
        # The default U sets are Li3TiCl6's: another material must not run them silently.
        from litcl_flows.structures.library import load_structure

        structure = load_structure(self.material.structure)
        elements = {el.symbol for el in structure.composition.elements}
        for index, u_set in enumerate(self.hubbard_u_eV):
            absent = sorted(set(u_set) - elements)
            if absent:
                raise PydanticCustomError(
                    "u_element_absent",
                    "hubbard_u_eV.{index}: {absent} not in the structure (it holds {elements}); "
                    "the default U sets are the Li3TiCl6 paper's, give this material's",
                    {
                        "index": index,
                        "absent": ", ".join(absent),
                        "elements": ", ".join(sorted(elements)),
                    },
                )
        return self

    @property
    def engine(self) -> ReferenceEngine:
        """The reference engine ``reference_engine`` names (its Makers and properties)."""
        from litcl_flows.makers.reference import get_reference_engine

        return get_reference_engine(self.reference_engine)

    def runs(self, step: str) -> bool:
        """Whether the flow includes ``step`` (see ``stop_after``)."""
        return STEPS.index(step) <= STEPS.index(self.stop_after)

    def to_maker(self) -> TransportStudyMaker:
        """The study's Maker (:func:`litcl_flows.flows.makers.study_maker`); its ``make``
        takes the ordered cell (:func:`litcl_flows.flows.study.ordered_cell`)."""
        from litcl_flows.flows.makers import study_maker

        return study_maker(self)


def _first_error_line(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    more = error.error_count() - 1
    suffix = f" (and {more} more error{'s' * (more > 1)})" if more else ""
    # A whole-spec check names its fields in its message.
    return f"{location + ': ' if location else ''}{first['msg']}{suffix}"


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a study spec file; raise :class:`SpecError` with one line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{path}:{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a study spec must be a YAML mapping")
    try:
        return StudySpec.model_validate(raw, context={"base_dir": path.parent.absolute()})
    except ValidationError as error:
        raise SpecError(f"{path}: {_first_error_line(error)}") from None
