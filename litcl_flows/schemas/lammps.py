"""Output documents of the LAMMPS + DeePMD MD Makers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from litcl_flows.schemas.base import DocumentMeta, MaterialMeta

if TYPE_CHECKING:
    from litcl_flows.analysis.run_length import RunLengthVerdict


class DumpFile(BaseModel):
    """A dump file left on the worker's file system."""

    kind: str = Field(description="'mobile' (xu yu zu of the mobile species) or 'all' atoms.")
    path: str = Field(description="Absolute path on the worker that ran the chunk.")
    size_bytes: int = Field(description="File size.")
    sha256: str = Field(description="SHA-256 of the file's bytes.")
    n_frames: int = Field(description="Number of frames (ITEM: TIMESTEP records).")
    first_step: int | None = Field(description="Timestep of the first frame.")
    last_step: int | None = Field(description="Timestep of the last frame.")
    every_steps: int = Field(description="Dump interval in steps.")
    in_data_store: bool = Field(
        description="Whether a gzip copy is in `dump_blobs` (file below the size threshold)."
    )


class Performance(BaseModel):
    """LAMMPS's own speed report for one MD segment: its ``Loop time`` line and the
    ``Performance:`` line after it, as :func:`litcl_flows.engines.lammps.log.parse_log` reads
    them (``ns_per_day`` NaN and no throughput when the second is missing)."""

    n_steps: int = Field(description="Steps in the segment ('Loop time ... for N steps').")
    loop_time_s: float = Field(description="Wall time of the segment's loop.")
    ns_per_day: float = Field(description="Simulated ns per day.")
    throughput_katom_step_s: float | None = Field(description="Thousand atom-steps per second.")
    n_procs: int = Field(description="MPI ranks.")


class LammpsChunk(BaseModel):
    """One job's share of the run (a walltime-sized chunk)."""

    directory: str = Field(description="Job directory holding the chunk's files.")
    first_step: int = Field(description="Step the chunk started from.")
    last_step: int = Field(description="Step of its last restart file.")
    time_step_fs: float = Field(description="Time step at the end of the chunk.")
    corrections: list[dict] = Field(description="custodian corrections (errors, actions).")
    performance: list[Performance] = Field(description="One entry per MD segment run.")
    dump_files: list[DumpFile] = Field(description="Dump files of the chunk.")
    host_com_file: str | None = Field(
        None,
        description="Centre of mass of the non-mobile atoms (step x y z, Å, unwrapped) at the "
        "mobile dump's steps: the frame the mobile displacements are measured in.",
    )


class SiteOccupancyRecord(BaseModel):
    """Target and achieved occupancy of one species on one Wyckoff orbit of the MD cell."""

    orbit: str = Field(description="Wyckoff position of the parent cell, e.g. '2a'.")
    site_labels: list[str] = Field(description="CIF labels of the orbit's sites.")
    species: str = Field(description="Element.")
    n_sites: int = Field(description="Sites of the orbit in the MD cell.")
    n_atoms: int = Field(description="Atoms of the species on them.")
    target_occupancy: float = Field(description="Occupancy asked for (spec or parent CIF).")
    achieved_occupancy: float = Field(description="n_atoms / n_sites.")


class MDCellRecord(BaseModel):
    """How the MD cell was made from the structure the MD job was given."""

    method: str = Field(
        description="'random': the disordered parent replicated and each partially occupied "
        "Wyckoff orbit filled with its whole-atom count at random sites of the whole cell "
        "(seeded); 'tiled': the ordered cell repeated (a superlattice of one ordering); "
        "'as given': the structure unchanged."
    )
    seed: int | None = Field(description="Seed of the random placement (None unless 'random').")
    n_atoms: int = Field(description="Atoms in the MD cell.")
    n_cells: int = Field(
        description="Copies of the cell it was built from: parent cells ('random'), ordered "
        "cells ('tiled')."
    )
    supercell_matrix: list[list[int]] = Field(
        description="Integer matrix applied to that cell (rows: new vectors in its units)."
    )
    occupancies: list[SiteOccupancyRecord] = Field(
        description="Per Wyckoff orbit and species, whole MD cell ('random' only; a tiled "
        "cell has its ordered cell's occupancies)."
    )
    widths_A: list[float] = Field(description="Perpendicular widths of the MD cell, Å.")
    lattice_abc_A: list[float] = Field(description="Lengths of the MD cell vectors, Å.")
    lattice_angles_deg: list[float] = Field(description="MD cell angles α, β, γ, degrees.")


class RunLengthRecord(BaseModel):
    """One run-length verdict: the run so far analysed, and whether it stopped there."""

    step: int = Field(description="MD step the verdict was taken at.")
    length_ps: float = Field(description="Length analysed, after equilibration, ps.")
    reason: str = Field(
        description="'converged', 'max_length' or 'continue' (analysis/run_length.py)."
    )
    explanation: str = Field(description="The criteria met or missed, with their values.")
    rel_stderr_D_self: float | None = Field(
        None, description="Relative standard error of D_self (None: undefined)."
    )
    rel_stderr_conductivity: float | None = Field(
        None, description="Relative standard error of σ (None: undefined)."
    )
    msd_exponent_self: float | None = Field(
        None, description="Exponent of the self MSD over the fit window."
    )
    hops_per_ion: float | None = Field(None, description="Mean hops per mobile ion so far.")
    projected_length_ps: float | None = Field(
        None,
        description="Length at which the error targets would be met if errors fall as 1/√t "
        "(None: cannot be projected).",
    )

    @classmethod
    def from_verdict(cls, step: int, verdict: RunLengthVerdict) -> RunLengthRecord:
        """The record of a verdict taken at ``step``; non-finite numbers become None."""

        def finite(value: float) -> float | None:
            return value if math.isfinite(value) else None

        return cls(
            step=step,
            length_ps=verdict.length_ps,
            reason=verdict.reason,
            explanation=verdict.explanation,
            rel_stderr_D_self=finite(verdict.rel_stderr_D_self),
            rel_stderr_conductivity=finite(verdict.rel_stderr_conductivity),
            msd_exponent_self=finite(verdict.msd_exponent_self),
            hops_per_ion=finite(verdict.hops_per_ion),
            projected_length_ps=finite(verdict.projected_length_ps),
        )


class ModelDeviationRecord(BaseModel):
    """Force deviation of a model ensemble along a run, sorted by trust level.

    ``max_devi_f`` is the largest, over atoms, standard deviation of the models' forces;
    frames below the lower level are accurate, from it to the upper level candidates, above
    failed (engines/deepmd/trust.py).
    """

    n_models: int = Field(description="Models in the ensemble, the driving one included.")
    every_steps: int = Field(description="MD steps between two evaluated frames.")
    n_frames: int = Field(description="Frames evaluated after equilibration.")
    level_f_lo_eV_A: float = Field(description="Lower force trust level, eV/Å.")
    level_f_hi_eV_A: float = Field(description="Upper force trust level, eV/Å.")
    accurate_fraction: float = Field(description="Fraction of frames below the lower level.")
    candidate_fraction: float = Field(description="Fraction between the two levels.")
    failed_fraction: float = Field(description="Fraction at or above the upper level.")
    out_of_domain_fraction: float = Field(
        description="Fraction at or above the lower level: frames the ensemble does not trust."
    )
    max_devi_f_mean_eV_A: float = Field(description="Mean max_devi_f over the frames, eV/Å.")
    max_devi_f_max_eV_A: float = Field(description="Largest max_devi_f over the frames, eV/Å.")
    files: list[str] = Field(description="model_devi.out of every chunk, in order.")


class LammpsMDDocument(MaterialMeta, DocumentMeta):
    """Summary of one NVT run of LAMMPS with a DeePMD model (all chunks together).

    ``formula_pretty`` and ``chemsys`` are the MD cell's; ``versions`` adds deepmd-kit and
    LAMMPS (the version the binary that ran printed on its screen output).
    """

    engine: str = Field("lammps+deepmd", description="Engine that produced the run.")
    model_path: str = Field(description="Frozen DeePMD model used.")
    elements: list[str] = Field(description="Element of each LAMMPS type, type 1 first.")
    mobile_species: list[str] = Field(description="Species in the frequent dump.")
    n_atoms: int = Field(description="Atoms in the simulation cell.")
    cell: MDCellRecord | None = Field(
        None, description="How the MD cell was made (None: runs from before this record)."
    )
    temperature_K: float = Field(description="Thermostat temperature.")
    time_step_fs: float = Field(description="Time step at the end of the run (see corrections).")
    tdamp_fs: float = Field(description="Nosé–Hoover damping time.")
    seed: int = Field(description="Seed of the initial velocities.")
    n_steps_requested: int = Field(description="Final step asked for.")
    n_steps_done: int = Field(description="Final step reached.")
    completed: bool = Field(description="Whether the run reached the requested step.")
    n_chunks: int = Field(description="Jobs the run was split into by the walltime.")
    equilibration_steps: int = Field(description="Steps left out of the statistics below.")
    temperature_mean_K: float = Field(description="Mean thermo temperature after equilibration.")
    temperature_std_K: float = Field(description="Standard deviation of that temperature.")
    temperature_rel_std_expected: float = Field(
        description="Canonical relative fluctuation sqrt(2/(3N)) of the kinetic temperature."
    )
    energy_drift_meV_atom_ps: float = Field(
        description="Slope of the conserved NVT energy (econserve) per atom, after equilibration."
    )
    finite: bool = Field(description="Whether every MD thermo value is finite.")
    n_frames_mobile: int = Field(description="Frames of the mobile species, all chunks.")
    n_frames_all: int = Field(description="Frames of all atoms, all chunks.")
    throughput_katom_step_s: float | None = Field(
        description="Atom-steps per second over all MD segments (total steps / total loop time)."
    )
    ns_per_day: float | None = Field(description="Simulated ns per day over all MD segments.")
    corrections: list[dict] = Field(description="custodian corrections of every chunk, in order.")
    chunks: list[LammpsChunk] = Field(description="The chunks, in order.")
    dump_files: list[DumpFile] = Field(description="Every dump file, chunk by chunk.")
    host_com_files: list[str] = Field(
        default_factory=list,
        description="Each chunk's host centre-of-mass file, in order (empty when every species "
        "is mobile).",
    )
    thermo: dict[str, list[float]] = Field(
        description="MD thermo columns (step, temp, pe, etotal, econserve, press, vol); "
        "units metal: K, eV, bar, Å³. Stored in the data store."
    )
    dump_blobs: dict[str, str] = Field(
        description="Base64 of gzip of each dump file below the size threshold, keyed by "
        "'<chunk>/<file>'. Stored in the data store."
    )
    run_length: list[RunLengthRecord] = Field(
        default_factory=list,
        description="Run-length verdicts in order (empty: the run's length was fixed).",
    )
    stop_reason: str | None = Field(
        None,
        description="Why the run stopped: 'converged' or 'max_length' by the run-length rule; "
        "None: it ran its fixed n_steps.",
    )
    model_deviation: ModelDeviationRecord | None = Field(
        None, description="Force deviation of the model ensemble (None: one model, none)."
    )
