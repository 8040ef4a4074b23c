"""jobflow Makers for LAMMPS + DeePMD NVT runs: one temperature, and a fan-out over several.

The recipe (docs/lammps.md): CG minimisation, velocities at T (seeded), Nosé–Hoover NVT,
Tdamp 100 fs, 1 fs steps, under custodian (:mod:`litcl_flows.engines.lammps`). A walltime
stops LAMMPS cleanly with a restart file; the job then replaces itself with a job that
continues from that file (``Response(replace=...)``) until the requested step is reached.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Job, Maker, Response, job
from pymatgen.core import Structure

from litcl_flows.analysis.run_length import RunLengthTarget, run_length_verdict
from litcl_flows.defaults import (
    DEFAULT_N_BLOCKS,
    MD_DUMP_ALL_EVERY,
    MD_DUMP_MOBILE_EVERY,
    MD_RESTART_EVERY,
    MD_THERMO_EVERY,
    RUN_LENGTH_CHECK_EVERY_STEPS,
)
from litcl_flows.engines.deepmd.trust import TrustLevels, read_model_deviation, select_frames
from litcl_flows.engines.lammps import (
    LammpsLog,
    LammpsMDInput,
    latest_restart,
    model_type_map,
    parse_log,
    replicate_to_atoms,
    run_lammps,
    type_order,
    write_inputs,
)
from litcl_flows.engines.lammps.inputs import (
    ALL_DUMP,
    DEVIATION_FILE,
    HOST_COM_FILE,
    LOG_FILE,
    MOBILE_DUMP,
)
from litcl_flows.engines.lammps.outputs import (
    custodian_corrections,
    data_file_atom_count,
    data_file_composition,
    dump_facts,
    gzip_base64,
    keep_latest_restart,
    lammps_version,
    summarize_thermo,
)
from litcl_flows.schemas.base import material_fields, package_versions
from litcl_flows.schemas.lammps import (
    DumpFile,
    LammpsChunk,
    LammpsMDDocument,
    ModelDeviationRecord,
    RunLengthRecord,
)
from litcl_flows.settings import load_settings

#: Suffix of the name of a continuation job (" chunk 3").
CHUNK_SUFFIX = re.compile(r" chunk \d+$")
#: Temperatures of the study (workflows/li3ticl6_paper.yaml).
PAPER_TEMPERATURES_K = (298.0, 313.0, 328.0, 333.0, 358.0, 373.0)


@dataclass
class RunLengthControl:
    """Run the MD until D is known (:mod:`litcl_flows.analysis.run_length`).

    Parameters
    ----------
    fit_window_ps
        Lag-time window of the fits, the same at every verdict: a window that grew with the
        run would keep the error from falling (analysis/run_length.py).
    target
        The stopping rule. Its ``max_length_ps`` is ignored: the Maker's ``n_steps`` is the
        maximum length.
    check_every_steps
        MD steps between two verdicts; each analyses the whole run so far (after
        equilibration) as the study's analysis will.
    n_blocks
        Blocks of the error bars, as in the study's analysis.
    """

    fit_window_ps: tuple[float, float]
    target: RunLengthTarget = field(default_factory=RunLengthTarget)
    check_every_steps: int = RUN_LENGTH_CHECK_EVERY_STEPS
    n_blocks: int = DEFAULT_N_BLOCKS

    def __post_init__(self) -> None:
        # JSON (FireWorks, the JobStore) gives the window back as a list, the target as a dict
        self.fit_window_ps = (float(self.fit_window_ps[0]), float(self.fit_window_ps[1]))
        if isinstance(self.target, dict):
            fields = {k: v for k, v in self.target.items() if not k.startswith("@")}
            self.target = RunLengthTarget(**fields)
        if not 0 <= self.fit_window_ps[0] < self.fit_window_ps[1]:
            raise ValueError(f"fit_window_ps must be 0 ≤ start < end, got {self.fit_window_ps}")
        if self.check_every_steps < 1 or self.n_blocks < 2:
            raise ValueError(
                "check_every_steps must be ≥ 1 and n_blocks ≥ 2, got "
                f"{self.check_every_steps} and {self.n_blocks}"
            )


@dataclass
class LammpsDeepmdMDMaker(Maker):
    """NVT MD at one temperature with a DeePMD model, in walltime-sized chunks.

    Parameters
    ----------
    name
        Job name; the temperature is appended.
    n_atoms
        Atoms of the MD cell, made as ``cell`` says (None: the input structure as given).
    cell
        ``"disordered"``: ``parent_structure`` replicated to about ``n_atoms`` and each
        partially occupied Wyckoff orbit filled with its whole-atom count at random sites of
        the whole cell (seeded), on the input structure's lattice (one parent cell of it, so
        the density is the relaxed cell's). ``"tiled"``: the input (ordered) structure
        repeated to at least ``n_atoms``: a superlattice of one ordering, for comparison.
    cell_seed
        Seed of the random placement (``cell="disordered"``).
    parent_structure
        The disordered structure (partial occupancies) the input structure is an ordered
        supercell of; needed for ``cell="disordered"``.
    site_occupancies
        Target occupancies replacing the parent's own, site → element → fraction
        (e.g. ``{"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}``); None: the parent's.
    n_steps
        MD steps after the minimisation (5.5 ns at 1 fs for the study).
    time_step_fs, tdamp_fs
        Time step and Nosé–Hoover damping time.
    seed
        Seed of the initial velocities.
    minimize
        Minimise (CG) before the MD.
    equilibration_steps
        Steps left out of the temperature statistics and the energy drift.
    thermo_every, dump_mobile_every, dump_all_every, restart_every
        Output intervals in steps.
    mobile_species
        Species whose unwrapped coordinates are dumped every ``dump_mobile_every`` steps.
    lmp_cmd
        Launch command (configuration, not code): ``"lmp"``, ``"srun -n 64 lmp"``,
        ``"mpiexec -n 4 lmp"``, ``"lmp -k on g 1 -sf kk"``. None: the ``lmp_cmd`` setting of
        the worker that runs the job (its ``litcl.yaml`` or ``LITCL_LMP_CMD``).
    lmp_env
        Environment variables for ``lmp`` (threads).
    walltime_s
        Seconds of MD per job; the job then continues in a new job. None: one job.
    max_chunks
        Upper bound on the number of jobs, a guard against a walltime too short to progress.
    max_restarts
        Restarts at half the time step after lost atoms or a non-finite energy.
    data_store_max_bytes
        Dump files up to this size also go gzip-compressed into the ``data`` store.
    polling_time_s
        How often custodian polls ``lmp``.
    run_length
        Stop once D_self is known to the target (``n_steps`` is then the maximum); None: run
        ``n_steps``.
    deviation_every
        With further models of an ensemble (``make(deviation_models=...)``): steps between
        two evaluations of their force deviation; None: ``dump_all_every``, so that every
        evaluated frame is also dumped whole and can be labelled.
    trust_levels
        Levels the deviation is sorted by in the run's document (fraction out of domain).
    """

    name: str = "lammps deepmd nvt"
    n_atoms: int | None = None
    cell: str = "disordered"
    cell_seed: int = 0
    parent_structure: Structure | None = None
    site_occupancies: dict[str, dict[str, float]] | None = None
    n_steps: int = 5_500_000
    time_step_fs: float = 1.0
    tdamp_fs: float = 100.0
    seed: int = 12345
    minimize: bool = True
    equilibration_steps: int = 50_000
    thermo_every: int = MD_THERMO_EVERY
    dump_mobile_every: int = MD_DUMP_MOBILE_EVERY
    dump_all_every: int = MD_DUMP_ALL_EVERY
    restart_every: int = MD_RESTART_EVERY
    mobile_species: tuple[str, ...] = ("Li",)
    lmp_cmd: str | None = None
    lmp_env: dict[str, str] = field(default_factory=dict)
    walltime_s: float | None = None
    max_chunks: int = 100
    max_restarts: int = 2
    data_store_max_bytes: int = 50_000_000
    polling_time_s: int = 5
    run_length: RunLengthControl | None = None
    deviation_every: int | None = None
    trust_levels: TrustLevels = field(default_factory=TrustLevels)

    @job(data=["dump_blobs", "thermo"], output_schema=LammpsMDDocument)
    def make(
        self,
        structure: Structure | None,
        model_path: str,
        temperature_K: float,
        type_map: list[str] | None = None,
        prev_dir: str | None = None,
        previous_dirs: list[str] | None = None,
        verdicts: list[RunLengthRecord] | None = None,
        target_step: int | None = None,
        deviation_models: list[str] | None = None,
    ) -> Response:
        """Run (a chunk of) the MD; continue in a replacement job until ``n_steps`` or, with
        ``run_length``, until its rule stops the run.

        Parameters
        ----------
        structure
            Ordered structure (None when continuing from ``prev_dir``).
        model_path
            Frozen DeePMD model, a path every worker can read.
        temperature_K
            Thermostat temperature.
        type_map
            The model's type map; read from the model when None.
        prev_dir, previous_dirs, verdicts, target_step
            Set by the job itself when it continues: the last chunk's directory, all of them,
            the run-length verdicts so far and the step the next chunk runs to.
        deviation_models
            Further frozen models of an ensemble: LAMMPS writes their force deviation from
            ``model_path`` every ``deviation_every`` steps (the dynamics follow
            ``model_path``), and the document reports the fraction of frames out of domain.
        """
        directory = Path.cwd()
        model, *others = (
            str(Path(path).expanduser().resolve())
            for path in [model_path, *(deviation_models or [])]
        )
        for path in (model, *others):
            if not Path(path).is_file():
                raise FileNotFoundError(f"DeePMD model not found: {path}")
        if prev_dir is None:
            if structure is None:
                raise ValueError("a structure is needed to start a run")
            structure, params = self.fresh_input(structure, model, temperature_K, type_map)
            params.deviation_models = others
            params.deviation_every = self.deviation_every or self.dump_all_every
        else:
            params = self._continued_input(prev_dir, directory, target_step)
        write_inputs(structure, directory, params)
        lmp_cmd = self.lmp_cmd or load_settings().lmp_cmd
        run_lammps(directory, lmp_cmd, self.lmp_env, self.max_restarts, self.polling_time_s)
        keep_latest_restart(directory)
        dirs = [*(previous_dirs or []), str(directory)]
        verdicts = list(verdicts or [])
        next_step = self._next_target(params, prev_dir, dirs, verdicts)
        if next_step is None:
            return Response(output=self.summarize(dirs, verdicts))
        follow = self.make(
            None, model, temperature_K, type_map, str(directory), dirs, verdicts, next_step
        )
        # jobflow names a job's Maker after the job: strip this chunk's suffix, or names pile up
        base = CHUNK_SUFFIX.sub("", self.name)
        follow.name = f"{base} chunk {len(dirs) + 1}"
        return Response(replace=follow)

    def _continued_input(
        self, prev_dir: str, directory: Path, target_step: int | None
    ) -> LammpsMDInput:
        """The previous chunk's input, restarting from its last restart file in ``directory``."""
        params = LammpsMDInput.load(prev_dir)
        restart = latest_restart(prev_dir)
        if restart is None:
            raise FileNotFoundError(f"no restart file in {prev_dir}")
        shutil.copy2(restart[0], directory / restart[0].name)
        params.restart_file = restart[0].name
        params.walltime_s = self.walltime_s
        params.n_steps = target_step or params.n_steps
        return params

    def _next_target(
        self,
        params: LammpsMDInput,
        prev_dir: str | None,
        dirs: list[str],
        verdicts: list[RunLengthRecord],
    ) -> int | None:
        """Step the next chunk runs to, or None when the run is over (verdict appended)."""
        reached = latest_restart(dirs[-1])[1]
        next_step = None
        if reached < params.n_steps:
            start = latest_restart(prev_dir)[1] if prev_dir else 0
            if reached <= start or len(dirs) >= self.max_chunks:
                raise RuntimeError(f"MD stuck at step {reached} after {len(dirs)} chunks")
            next_step = params.n_steps
        elif self.run_length is not None:
            verdicts.append(self.verdict(dirs, reached))
            if verdicts[-1].reason == "continue":
                next_step = min(self.n_steps, reached + self.run_length.check_every_steps)
        if next_step is not None and len(dirs) >= self.max_chunks:
            raise RuntimeError(f"MD not finished after {len(dirs)} chunks (max_chunks)")
        return next_step

    def first_target_step(self) -> int:
        """Step the first chunk runs to: ``n_steps``, or the first run-length verdict's."""
        if self.run_length is None:
            return self.n_steps
        return min(self.n_steps, self.equilibration_steps + self.run_length.check_every_steps)

    def verdict(self, dirs: list[str], reached: int) -> RunLengthRecord:
        """Apply the run-length rule to the run so far (after equilibration).

        D and its error come from the study's own transport analysis
        (:func:`~litcl_flows.analysis.md_run.mobile_transport`). Hops are counted between
        the sites of the ions' density (:func:`~litcl_flows.analysis.hops.count_hops`); the
        count does not depend on layer planes, so the (001) planes through the origin are
        passed only because that function also classes each hop by plane.
        """
        from litcl_flows.analysis.hops import count_hops
        from litcl_flows.analysis.md_run import mobile_transport
        from litcl_flows.io import iter_frames

        control = self.run_length
        assert control is not None
        params = LammpsMDInput.load(dirs[-1])
        length_ps = (reached - self.equilibration_steps) * params.time_step_fs / 1000
        at_most_ps = (self.n_steps - self.equilibration_steps) * params.time_step_fs / 1000
        target = dataclasses.replace(control.target, max_length_ps=at_most_ps)
        dumps = [str(Path(d) / MOBILE_DUMP) for d in dirs]
        host_com = [Path(d) / HOST_COM_FILE for d in dirs]
        with warnings.catch_warnings():
            # the verdict says what falls short; the study's analysis warns about it later
            warnings.simplefilter("ignore")
            try:
                trajectory, transport = mobile_transport(
                    (
                        frame
                        for frame in iter_frames(dumps, "lammps-dump", params.elements)
                        if frame.step >= self.equilibration_steps
                    ),
                    params.mobile_species[0],
                    params.temperature_K,
                    params.time_step_fs,
                    label=dumps[0],
                    host_com_files=[p for p in host_com if p.is_file()],
                    n_blocks=control.n_blocks,
                    fit_window_ps=control.fit_window_ps,
                    max_exponent_deviation=control.target.max_exponent_deviation,
                )
            except ValueError as error:
                # too few frames for the fixed window yet: the run grows until they fit
                reason = "max_length" if length_ps >= at_most_ps else "continue"
                return RunLengthRecord(
                    step=reached, length_ps=length_ps, reason=reason, explanation=str(error)
                )
            try:
                hops = count_hops(trajectory.positions_A, trajectory.cells_A, stacking=(0, 0, 1))
                hops_per_ion = hops.n_hops / hops.n_ions
            except ValueError:
                hops_per_ion = math.nan
        return RunLengthRecord.from_verdict(
            reached, run_length_verdict(transport, hops_per_ion, length_ps, target)
        )

    def fresh_input(
        self, structure: Structure, model: str, temperature_K: float, type_map: list[str] | None
    ) -> tuple[Structure, LammpsMDInput]:
        """Cell and input of the first chunk; checks its elements against the type map.

        The MD cell is made from ``structure`` (the relaxed ordered cell) as ``cell`` says,
        and how it was made travels in the input's ``cell`` record to the run's document.
        """
        structure, cell_record = self._md_cell(structure)
        elements = type_order(structure)
        known = type_map if type_map is not None else model_type_map(model)
        missing = [el for el in elements if el not in known]
        if missing:
            raise ValueError(f"elements {missing} are not in the model's type map {known}")
        return structure, LammpsMDInput(
            model_path=model,
            elements=elements,
            temperature_K=temperature_K,
            n_steps=self.first_target_step(),
            time_step_fs=self.time_step_fs,
            tdamp_fs=self.tdamp_fs,
            seed=self.seed,
            minimize=self.minimize,
            thermo_every=self.thermo_every,
            dump_mobile_every=self.dump_mobile_every,
            dump_all_every=self.dump_all_every,
            restart_every=self.restart_every,
            mobile_species=list(self.mobile_species),
            walltime_s=self.walltime_s,
            cell=cell_record,
        )

    def _md_cell(self, structure: Structure) -> tuple[Structure, dict[str, Any]]:
        """The MD cell made from ``structure`` and the record of how (``MDCellRecord``)."""
        from litcl_flows.structures.supercells import perpendicular_widths_A

        if not self.n_atoms:
            cell, method, seed, matrix = structure.copy(), "as given", None, np.eye(3, dtype=int)
            occupancies: list[dict[str, Any]] = []
        elif self.cell == "tiled":
            cell, method, seed = replicate_to_atoms(structure, self.n_atoms), "tiled", None
            ratio = cell.lattice.matrix @ np.linalg.inv(structure.lattice.matrix)
            matrix, occupancies = np.rint(ratio).astype(int), []
        elif self.cell == "disordered":
            if self.parent_structure is None:
                raise ValueError(
                    "cell 'disordered' needs parent_structure (the structure with partial "
                    "occupancies); give it, or use cell 'tiled'"
                )
            from litcl_flows.structures.disorder import disordered_md_cell, parent_cell_lattice

            parent = self.parent_structure
            built = disordered_md_cell(
                parent,
                self.n_atoms,
                self.site_occupancies,
                self.cell_seed,
                lattice=parent_cell_lattice(structure.lattice.matrix, parent.lattice.matrix),
            )
            return built.structure, built.summary()
        else:
            raise ValueError(f"unknown cell {self.cell!r}: use 'disordered' or 'tiled'")
        record = {
            "method": method,
            "seed": seed,
            "n_atoms": len(cell),
            "n_cells": round(abs(np.linalg.det(matrix))),
            "supercell_matrix": matrix.tolist(),
            "occupancies": occupancies,
            "widths_A": perpendicular_widths_A(cell.lattice.matrix).tolist(),
            "lattice_abc_A": list(cell.lattice.abc),
            "lattice_angles_deg": list(cell.lattice.angles),
        }
        return cell, record

    def summarize(
        self, dirs: list[str], verdicts: list[RunLengthRecord] | None = None
    ) -> LammpsMDDocument:
        """Build the run's document from its chunk directories and run-length verdicts."""
        params = LammpsMDInput.load(dirs[-1])
        logs = [parse_log(Path(d) / LOG_FILE) for d in dirs]
        stats = summarize_thermo(logs, self.equilibration_steps, params.time_step_fs)
        n_atoms = data_file_atom_count(Path(dirs[0]))
        chunks, blobs = [], {}
        first = 0
        for k, (d, log) in enumerate(zip(dirs, logs, strict=True)):
            chunk = self._chunk(Path(d), log, first)
            for record in chunk.dump_files:
                if record.in_data_store:
                    blobs[f"chunk{k}/{Path(record.path).name}"] = gzip_base64(Path(record.path))
            chunks.append(chunk)
            first = chunk.last_step
        perf = [p for c in chunks for p in c.performance]
        loop_s = sum(p.loop_time_s for p in perf)
        steps = sum(p.n_steps for p in perf)
        dumps = [f for c in chunks for f in c.dump_files]
        versions = package_versions("deepmd-kit", "lammps")
        versions.update(lammps_version(Path(dirs[0])))
        return LammpsMDDocument(
            **material_fields(data_file_composition(Path(dirs[0]), params.elements) or None),
            versions=versions,
            model_path=params.model_path,
            elements=params.elements,
            mobile_species=params.mobile_species,
            n_atoms=n_atoms,
            cell=params.cell,
            temperature_K=params.temperature_K,
            time_step_fs=params.time_step_fs,
            tdamp_fs=params.tdamp_fs,
            seed=params.seed,
            n_steps_requested=params.n_steps,
            n_steps_done=chunks[-1].last_step,
            completed=chunks[-1].last_step >= params.n_steps,
            n_chunks=len(chunks),
            equilibration_steps=self.equilibration_steps,
            temperature_mean_K=stats.temperature_mean_K,
            temperature_std_K=stats.temperature_std_K,
            temperature_rel_std_expected=math.sqrt(2 / (3 * n_atoms)),
            energy_drift_meV_atom_ps=1000 * stats.energy_drift_eV_ps / n_atoms,
            finite=stats.finite,
            n_frames_mobile=sum(f.n_frames for f in dumps if f.kind == "mobile"),
            n_frames_all=sum(f.n_frames for f in dumps if f.kind == "all"),
            throughput_katom_step_s=n_atoms * steps / loop_s / 1000 if loop_s else None,
            ns_per_day=steps * params.time_step_fs * 1e-6 / loop_s * 86400 if loop_s else None,
            corrections=[c for chunk in chunks for c in chunk.corrections],
            chunks=chunks,
            dump_files=dumps,
            host_com_files=[c.host_com_file for c in chunks if c.host_com_file],
            thermo=stats.thermo,
            dump_blobs=blobs,
            run_length=verdicts or [],
            stop_reason=verdicts[-1].reason if verdicts else None,
            model_deviation=self.model_deviation(dirs, params),
        )

    def model_deviation(
        self, dirs: list[str], params: LammpsMDInput
    ) -> ModelDeviationRecord | None:
        """The ensemble's force deviation over the run after equilibration, by trust level."""
        if not params.deviation_models:
            return None
        files = [f for d in dirs if (f := Path(d) / DEVIATION_FILE).is_file()]
        deviation = read_model_deviation(files)
        after = deviation.max_devi_f_eV_A[deviation.steps >= self.equilibration_steps]
        if not len(after):
            return None
        selection = select_frames(after, self.trust_levels)
        return ModelDeviationRecord(
            n_models=1 + len(params.deviation_models),
            every_steps=params.deviation_every,
            n_frames=selection.n_frames,
            level_f_lo_eV_A=self.trust_levels.level_f_lo_eV_A,
            level_f_hi_eV_A=self.trust_levels.level_f_hi_eV_A,
            accurate_fraction=selection.accurate_fraction,
            candidate_fraction=selection.candidate_fraction,
            failed_fraction=selection.failed_fraction,
            out_of_domain_fraction=selection.out_of_domain_fraction,
            max_devi_f_mean_eV_A=float(after.mean()),
            max_devi_f_max_eV_A=float(after.max()),
            files=[str(f) for f in files],
        )

    def _chunk(self, directory: Path, log: LammpsLog, first_step: int) -> LammpsChunk:
        """Record of one chunk: its steps, corrections, speed and dump files."""
        params = LammpsMDInput.load(directory)
        files = [
            DumpFile(
                kind=kind,
                path=str(directory / name),
                every_steps=every,
                in_data_store=(directory / name).stat().st_size <= self.data_store_max_bytes,
                **dump_facts(directory / name),
            )
            for kind, name, every in (
                ("mobile", MOBILE_DUMP, params.dump_mobile_every),
                ("all", ALL_DUMP, params.dump_all_every),
            )
        ]
        com_file = directory / HOST_COM_FILE
        return LammpsChunk(
            directory=str(directory),
            first_step=first_step,
            last_step=latest_restart(directory)[1],
            time_step_fs=params.time_step_fs,
            corrections=custodian_corrections(directory),
            performance=[b.performance for b in log.md_blocks if b.performance is not None],
            dump_files=files,
            host_com_file=str(com_file) if com_file.is_file() else None,
        )


@dataclass
class LammpsTemperatureSweepMaker(Maker):
    """One :class:`LammpsDeepmdMDMaker` job per temperature, all from the same structure.

    Parameters
    ----------
    name
        Flow name.
    md_maker
        Maker of each temperature's job.
    temperatures_K
        Temperatures to run.
    """

    name: str = "lammps deepmd temperatures"
    md_maker: LammpsDeepmdMDMaker = field(default_factory=LammpsDeepmdMDMaker)
    temperatures_K: tuple[float, ...] = PAPER_TEMPERATURES_K

    def runs(
        self,
        structure: Structure,
        model_path: str,
        type_map: list[str] | None = None,
        deviation_models: list[str] | None = None,
    ) -> list[Job]:
        """One MD job per temperature, in the order of ``temperatures_K``; with
        ``deviation_models`` each run records the ensemble's force deviation."""
        jobs = []
        for temperature in self.temperatures_K:
            md = self.md_maker.make(
                structure, model_path, temperature, type_map, deviation_models=deviation_models
            )
            md.name = f"{self.md_maker.name} {temperature:g}K"
            jobs.append(md)
        return jobs

    def make(
        self, structure: Structure, model_path: str, type_map: list[str] | None = None
    ) -> Flow:
        """A flow whose output is the list of documents, in the order of ``temperatures_K``."""
        jobs = self.runs(structure, model_path, type_map)
        return Flow(jobs, output=[j.output for j in jobs], name=self.name)
