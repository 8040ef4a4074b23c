"""jobflow Makers for LAMMPS + DeePMD NVT runs: one temperature, and a fan-out over several.

The recipe (SCIENCE.md §5): CG minimisation, velocities at T (seeded), Nosé–Hoover NVT,
Tdamp 100 fs, 1 fs steps, under custodian (:mod:`litcl_flows.engines.lammps`). A walltime
stops LAMMPS cleanly with a restart file; the job then replaces itself with a job that
continues from that file (``Response(replace=...)``) until the requested step is reached.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import Flow, Job, Maker, Response, job
from pymatgen.core import Structure

from litcl_flows.engines.lammps import (
    LammpsMDInput,
    dump_timesteps,
    latest_restart,
    merge_md_thermo,
    model_type_map,
    parse_log,
    replicate_to_atoms,
    run_lammps,
    type_order,
    write_inputs,
)
from litcl_flows.engines.lammps.custodian import STDOUT_FILE
from litcl_flows.engines.lammps.inputs import (
    ALL_DUMP,
    DATA_FILE,
    HOST_COM_FILE,
    LOG_FILE,
    MOBILE_DUMP,
    RESTART_PATTERN,
)
from litcl_flows.schemas.base import material_fields, package_versions
from litcl_flows.schemas.lammps import DumpFile, LammpsChunk, LammpsMDDocument, Performance
from litcl_flows.settings import load_settings

#: Temperatures of the study (workflows/li3ticl6_paper.yaml).
PAPER_TEMPERATURES_K = (298.0, 313.0, 328.0, 333.0, 358.0, 373.0)


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
    timestep_fs, tdamp_fs
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
    """

    name: str = "lammps deepmd nvt"
    n_atoms: int | None = None
    cell: str = "disordered"
    cell_seed: int = 0
    parent_structure: Structure | None = None
    site_occupancies: dict[str, dict[str, float]] | None = None
    n_steps: int = 5_500_000
    timestep_fs: float = 1.0
    tdamp_fs: float = 100.0
    seed: int = 12345
    minimize: bool = True
    equilibration_steps: int = 50_000
    thermo_every: int = 1000
    dump_mobile_every: int = 1000
    dump_all_every: int = 10_000
    restart_every: int = 100_000
    mobile_species: tuple[str, ...] = ("Li",)
    lmp_cmd: str | None = None
    lmp_env: dict[str, str] = field(default_factory=dict)
    walltime_s: float | None = None
    max_chunks: int = 100
    max_restarts: int = 2
    data_store_max_bytes: int = 50_000_000
    polling_time_s: int = 5

    @job(data=["dump_blobs", "thermo"], output_schema=LammpsMDDocument)
    def make(
        self,
        structure: Structure | None,
        model_path: str,
        temperature_K: float,
        type_map: list[str] | None = None,
        prev_dir: str | None = None,
        previous_dirs: list[str] | None = None,
    ) -> Response:
        """Run (a chunk of) the MD; continue in a replacement job until ``n_steps``.

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
        prev_dir, previous_dirs
            Set by the job itself when it continues: the last chunk's directory and all of them.
        """
        directory = Path.cwd()
        model = str(Path(model_path).expanduser().resolve())
        if not Path(model).is_file():
            raise FileNotFoundError(f"DeePMD model not found: {model}")
        if prev_dir is None:
            if structure is None:
                raise ValueError("a structure is needed to start a run")
            structure, params = self.fresh_input(structure, model, temperature_K, type_map)
        else:
            params = LammpsMDInput.load(prev_dir)
            restart = latest_restart(prev_dir)
            if restart is None:
                raise FileNotFoundError(f"no restart file in {prev_dir}")
            shutil.copy2(restart[0], directory / restart[0].name)
            params.restart_file = restart[0].name
            params.walltime_s = self.walltime_s
        write_inputs(structure, directory, params)
        lmp_cmd = self.lmp_cmd or load_settings().lmp_cmd
        run_lammps(directory, lmp_cmd, self.lmp_env, self.max_restarts, self.polling_time_s)
        _keep_latest_restart(directory)
        dirs = [*(previous_dirs or []), str(directory)]
        reached = latest_restart(directory)[1]
        if reached < params.n_steps:
            start = latest_restart(prev_dir)[1] if prev_dir else 0
            if reached <= start or len(dirs) >= self.max_chunks:
                raise RuntimeError(f"MD stuck at step {reached} after {len(dirs)} chunks")
            follow = self.make(None, model, temperature_K, type_map, str(directory), dirs)
            follow.name = f"{self.name} {temperature_K:g}K chunk {len(dirs) + 1}"
            return Response(replace=follow)
        return Response(output=self.summarize(dirs))

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
            n_steps=self.n_steps,
            timestep_fs=self.timestep_fs,
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

    def summarize(self, dirs: list[str]) -> LammpsMDDocument:
        """Build the run's document from its chunk directories."""
        params = LammpsMDInput.load(dirs[-1])
        logs = [parse_log(Path(d) / LOG_FILE) for d in dirs]
        columns, rows = merge_md_thermo(logs)
        table = np.array(rows)
        thermo = {name: table[:, i].tolist() for i, name in enumerate(columns)}
        n_atoms = _n_atoms(Path(dirs[0]))
        steady = table[table[:, 0] >= self.equilibration_steps]
        temp = steady[:, columns.index("Temp")]
        time_ps = steady[:, 0] * params.timestep_fs / 1000
        econs = steady[:, columns.index("Econserve")]
        drift = float(np.polyfit(time_ps, econs, 1)[0]) if len(steady) > 1 else math.nan
        chunks, blobs = [], {}
        first = 0
        for k, (d, log) in enumerate(zip(dirs, logs, strict=True)):
            chunk_params = LammpsMDInput.load(d)
            files = []
            for kind, name, every in (
                ("mobile", MOBILE_DUMP, chunk_params.dump_mobile_every),
                ("all", ALL_DUMP, chunk_params.dump_all_every),
            ):
                record, blob = self._dump_record(Path(d) / name, kind, every)
                files.append(record)
                if blob is not None:
                    blobs[f"chunk{k}/{name}"] = blob
            last = latest_restart(d)[1]
            com_file = Path(d) / HOST_COM_FILE
            chunks.append(
                LammpsChunk(
                    directory=d,
                    first_step=first,
                    last_step=last,
                    timestep_fs=chunk_params.timestep_fs,
                    corrections=_corrections(Path(d)),
                    performance=[
                        Performance(**vars(b.performance))
                        for b in log.md_blocks
                        if b.performance is not None
                    ],
                    dump_files=files,
                    host_com_file=str(com_file) if com_file.is_file() else None,
                )
            )
            first = last
        perf = [p for c in chunks for p in c.performance]
        loop_s = sum(p.loop_time_s for p in perf)
        steps = sum(p.n_steps for p in perf)
        dumps = [f for c in chunks for f in c.dump_files]
        versions = package_versions("deepmd-kit", "lammps")
        versions.update(_lammps_version(Path(dirs[0])))
        return LammpsMDDocument(
            **material_fields(_md_composition(Path(dirs[0]), params.elements) or None),
            versions=versions,
            model_path=params.model_path,
            elements=params.elements,
            mobile_species=params.mobile_species,
            n_atoms=n_atoms,
            cell=params.cell,
            temperature_K=params.temperature_K,
            timestep_fs=params.timestep_fs,
            tdamp_fs=params.tdamp_fs,
            seed=params.seed,
            n_steps_requested=params.n_steps,
            n_steps_done=chunks[-1].last_step,
            completed=chunks[-1].last_step >= params.n_steps,
            n_chunks=len(chunks),
            equilibration_steps=self.equilibration_steps,
            temperature_mean_K=float(temp.mean()),
            temperature_std_K=float(temp.std()),
            temperature_rel_std_expected=math.sqrt(2 / (3 * n_atoms)),
            energy_drift_meV_atom_ps=1000 * drift / n_atoms,
            finite=bool(np.isfinite(table).all()),
            n_frames_mobile=sum(f.n_frames for f in dumps if f.kind == "mobile"),
            n_frames_all=sum(f.n_frames for f in dumps if f.kind == "all"),
            throughput_katom_step_s=n_atoms * steps / loop_s / 1000 if loop_s else None,
            ns_per_day=steps * params.timestep_fs * 1e-6 / loop_s * 86400 if loop_s else None,
            corrections=[c for chunk in chunks for c in chunk.corrections],
            chunks=chunks,
            dump_files=dumps,
            host_com_files=[c.host_com_file for c in chunks if c.host_com_file],
            thermo=thermo,
            dump_blobs=blobs,
        )

    def _dump_record(self, path: Path, kind: str, every: int) -> tuple[DumpFile, str | None]:
        """Checksum and frame range of a dump file, and its gzip copy when small enough."""
        size = path.stat().st_size
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        steps = list(dump_timesteps(path))
        small = size <= self.data_store_max_bytes
        record = DumpFile(
            kind=kind,
            path=str(path),
            size_bytes=size,
            sha256=digest.hexdigest(),
            n_frames=len(steps),
            first_step=steps[0] if steps else None,
            last_step=steps[-1] if steps else None,
            every_steps=every,
            in_data_store=small,
        )
        blob = base64.b64encode(gzip.compress(path.read_bytes())).decode() if small else None
        return record, blob


def _n_atoms(directory: Path) -> int:
    """Atom count from the first chunk's data file header."""
    with open(directory / DATA_FILE) as handle:
        for line in handle:
            if line.strip().endswith("atoms"):
                return int(line.split()[0])
    raise ValueError(f"no atom count in {directory / DATA_FILE}")


def _md_composition(directory: Path, elements: list[str]) -> dict[str, int]:
    """Atoms per element of the MD cell, from the ``Atoms`` section of the first chunk's data
    file (``id type x y z``; type k is ``elements[k - 1]``); empty when it has none."""
    counts: Counter[str] = Counter()
    with open(directory / DATA_FILE) as handle:
        for line in handle:
            if line.split("#")[0].strip() == "Atoms":
                break
        for line in handle:
            fields = line.split()
            if counts and not fields:
                break
            if fields:
                counts[elements[int(fields[1]) - 1]] += 1
    return dict(counts)


def _lammps_version(directory: Path) -> dict[str, str]:
    """``{"lammps": "22 Jul 2025 - Update 2"}``: the version the binary printed first on its
    screen output (the binary that ran, which need not be the ``lammps`` Python package)."""
    path = directory / STDOUT_FILE
    if not path.is_file():
        return {}
    with open(path, errors="replace") as handle:
        match = re.match(r"LAMMPS \((.+?)\)", handle.readline())
    return {"lammps": match[1]} if match else {}


def _corrections(directory: Path) -> list[dict]:
    """Corrections custodian recorded in ``custodian.json``."""
    path = directory / "custodian.json"
    if not path.exists():
        return []
    return [
        {"errors": c["errors"], "actions": c["actions"]}
        for entry in json.loads(path.read_text())
        for c in entry.get("corrections", [])
    ]


def _keep_latest_restart(directory: Path) -> None:
    """Delete all restart files but the newest (for 20,000 atoms each is megabytes)."""
    latest = latest_restart(directory)
    for path in directory.iterdir():
        if RESTART_PATTERN.match(path.name) and latest and path != latest[0]:
            path.unlink()


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
        self, structure: Structure, model_path: str, type_map: list[str] | None = None
    ) -> list[Job]:
        """One MD job per temperature, in the order of ``temperatures_K``."""
        jobs = []
        for temperature in self.temperatures_K:
            md = self.md_maker.make(structure, model_path, temperature, type_map)
            md.name = f"{self.md_maker.name} {temperature:g}K"
            jobs.append(md)
        return jobs

    def make(
        self, structure: Structure, model_path: str, type_map: list[str] | None = None
    ) -> Flow:
        """A flow whose output is the list of documents, in the order of ``temperatures_K``."""
        jobs = self.runs(structure, model_path, type_map)
        return Flow(jobs, output=[j.output for j in jobs], name=self.name)
