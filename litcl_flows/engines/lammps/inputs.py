"""Write the LAMMPS inputs of a DeePMD NVT run: the data file and ``in.lammps``.

The protocol (docs/lammps.md): conjugate-gradient minimisation, velocities drawn at T with a
seed, Nosé–Hoover NVT. Types follow the data file's ``Masses`` order, and that order is passed
explicitly to ``pair_coeff * * <elements>`` and ``dump_modify element`` (the
pymatgen generator builds it from a Python set, whose order varies between runs).
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pymatgen.core import Element, Structure
from pymatgen.io.lammps.data import LammpsData

from litcl_flows.defaults import (
    MD_DUMP_ALL_EVERY,
    MD_DUMP_MOBILE_EVERY,
    MD_RESTART_EVERY,
    MD_THERMO_EVERY,
)

#: Files every run directory holds; handlers and the Maker find them by these names.
INPUT_FILE = "in.lammps"
DATA_FILE = "input.data"
PARAMS_FILE = "litcl_lammps.json"
LOG_FILE = "log.lammps"
MOBILE_DUMP = "dump.mobile.lammpstrj"
ALL_DUMP = "dump.all.lammpstrj"
#: Centre of mass of the non-mobile atoms (unwrapped, Å) at the mobile dump's steps: the
#: frame the mobile ions' displacements are measured in when the dump holds only them.
HOST_COM_FILE = "host_com.txt"
#: Force deviation of a model ensemble (``deepmd`` pair style's ``out_file``).
DEVIATION_FILE = "model_devi.out"
RESTART_PATTERN = re.compile(r"^restart\.(\d+)$")
#: Printed before each stage so the log parser can tell minimisation from MD thermo blocks.
STAGE_MARK = "litcl-stage:"


@dataclass
class LammpsMDInput:
    """Everything ``in.lammps`` depends on; saved as JSON so a handler can rewrite the input.

    Parameters
    ----------
    model_path
        Absolute path of the frozen DeePMD model (``.pb``).
    elements
        Element of each LAMMPS type, in type order (type 1 first).
    temperature_K
        Thermostat temperature and temperature of the initial velocities.
    n_steps
        Final MD step: the run ends when the step counter reaches it (``run N upto``).
    time_step_fs
        MD time step.
    tdamp_fs
        Nosé–Hoover damping time.
    seed
        Seed of the initial velocities.
    minimize
        Minimise (CG) before the MD when starting from the data file.
    min_max_iterations
        Iteration limit of the minimisation.
    thermo_every, dump_mobile_every, dump_all_every, restart_every
        Output intervals in steps: thermo rows, ``xu yu zu`` of the mobile species (and the
        host's centre of mass, :data:`HOST_COM_FILE`), all atoms, restart files.
    mobile_species
        Elements whose unwrapped coordinates go to the frequent dump.
    walltime_s
        Stop the MD cleanly after this many seconds (LAMMPS ``timer timeout``) and write a
        restart file; None runs to ``n_steps``.
    restart_file
        Start from this restart file (same directory) instead of the data file.
    cell
        How the MD cell was made (``MDCellRecord`` fields), carried to the run's document;
        ``in.lammps`` does not depend on it.
    deviation_models
        Further frozen models of an ensemble: LAMMPS evaluates them with ``model_path`` every
        ``deviation_every`` steps and writes their force deviation to :data:`DEVIATION_FILE`
        (the dynamics follow ``model_path`` alone). Empty: no model deviation.
    deviation_every
        Steps between model-deviation rows.
    """

    model_path: str
    elements: list[str]
    temperature_K: float
    n_steps: int
    time_step_fs: float = 1.0
    tdamp_fs: float = 100.0
    seed: int = 12345
    minimize: bool = True
    min_max_iterations: int = 1000
    thermo_every: int = MD_THERMO_EVERY
    dump_mobile_every: int = MD_DUMP_MOBILE_EVERY
    dump_all_every: int = MD_DUMP_ALL_EVERY
    restart_every: int = MD_RESTART_EVERY
    mobile_species: list[str] = field(default_factory=lambda: ["Li"])
    walltime_s: float | None = None
    restart_file: str | None = None
    cell: dict | None = None
    deviation_models: list[str] = field(default_factory=list)
    deviation_every: int = MD_DUMP_MOBILE_EVERY

    def save(self, directory: Path | str) -> Path:
        """Write the parameters to ``litcl_lammps.json`` in ``directory``."""
        path = Path(directory) / PARAMS_FILE
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def load(cls, directory: Path | str) -> LammpsMDInput:
        """Read the parameters written by :meth:`save`."""
        return cls(**json.loads((Path(directory) / PARAMS_FILE).read_text()))

    def _pair_style(self) -> str:
        if not self.deviation_models:
            return f"pair_style deepmd {self.model_path}"
        models = " ".join([self.model_path, *self.deviation_models])
        return (
            f"pair_style deepmd {models} out_freq {self.deviation_every} out_file {DEVIATION_FILE}"
        )

    def render(self) -> str:
        """The text of ``in.lammps``."""
        names = " ".join(self.elements)
        mobile_types = " ".join(
            str(i + 1) for i, el in enumerate(self.elements) if el in self.mobile_species
        )
        if not mobile_types:
            raise ValueError(f"no mobile species {self.mobile_species} among {self.elements}")
        start = f"read_data {DATA_FILE}"
        if self.restart_file:
            start = f"read_restart {self.restart_file}"
        lines = [
            "# written by litcl_flows.engines.lammps",
            # appended, so a handler's restart in the same folder keeps the earlier thermo
            f"log {LOG_FILE} append",
            "units metal",
            "atom_style atomic",
            "boundary p p p",
            start,
            self._pair_style(),
            f"pair_coeff * * {names}",
            f"timestep {self.time_step_fs / 1000:.10g}",
            f"group mobile type {mobile_types}",
            "thermo_style custom step temp pe etotal econserve press vol",
            "thermo_modify format float %.10g",
            f"thermo {self.thermo_every}",
        ]
        if not self.restart_file:
            if self.minimize:
                lines += [
                    f'print "{STAGE_MARK} minimize"',
                    f"minimize 0.0 1.0e-3 {self.min_max_iterations} {10 * self.min_max_iterations}",
                    "reset_timestep 0",
                ]
            lines.append(
                f"velocity all create {self.temperature_K:g} {self.seed} "
                "mom yes rot no dist gaussian loop geom"
            )
        # same fix ID as before a restart, so the thermostat's state is read back
        t = f"{self.temperature_K:g}"
        lines.append(f"fix nvt all nvt temp {t} {t} {self.tdamp_fs / 1000:.10g}")
        # after a restart: append, and skip the restart step, which the earlier segment wrote
        continued = " append yes delay $(step+1)" if self.restart_file else ""
        for dump_id, group, every, file_name in (
            ("dmobile", "mobile", self.dump_mobile_every, MOBILE_DUMP),
            ("dall", "all", self.dump_all_every, ALL_DUMP),
        ):
            lines += [
                f"dump {dump_id} {group} custom {every} {file_name} id element xu yu zu",
                f"dump_modify {dump_id} element {names} sort id{continued}",
            ]
        if len(mobile_types.split()) < len(self.elements):
            # The mobile dump has no host atoms to measure drift against: the host's centre of
            # mass (from image flags, so unwrapped) is written at the same steps instead. The
            # thermostat conserves total momentum, so the host recoils against the Li current
            # and the collective MSD must be taken relative to it (docs/analysis.md).
            every = self.dump_mobile_every
            # after a restart: append; the restart step's row repeats and readers drop it
            mode = "append" if self.restart_file else "file"
            lines += [
                "group host subtract all mobile",
                "compute hostcom host com",
                f"fix hostcom all ave/time {every} 1 {every} c_hostcom[1] c_hostcom[2] "
                f'c_hostcom[3] {mode} {HOST_COM_FILE} format " %.10g"',
            ]
        lines.append(f"restart {self.restart_every} restart.*")
        if self.walltime_s is not None:
            seconds = max(1, int(self.walltime_s))
            hms = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
            lines.append(f"timer timeout {hms} every 1")
        lines += [f'print "{STAGE_MARK} md"', f"run {self.n_steps} upto", "write_restart restart.*"]
        return "\n".join(lines) + "\n"


def write_data_file(structure: Structure, path: Path | str) -> list[str]:
    """Write a LAMMPS data file (atom_style atomic) with element labels; return type order.

    Types are numbered in pymatgen's order (``LammpsData.from_structure`` sorts elements by
    electronegativity); each type's element goes into the ``Masses`` comments and an
    ``Atom Type Labels`` section, so the file says which element each type is.
    """
    data = LammpsData.from_structure(structure, atom_style="atomic")
    elements = type_order(structure)
    text = data.get_str(distance=8)
    masses = "\n".join(
        f"{i + 1} {m:.6f}  # {el}"
        for i, (m, el) in enumerate(zip(data.masses["mass"], elements, strict=True))
    )
    labels = "\n".join(f"{i + 1} {el}" for i, el in enumerate(elements))
    text = re.sub(
        r"Masses\n\n.*?\n\n",
        lambda _: f"Atom Type Labels\n\n{labels}\n\nMasses\n\n{masses}\n\n",
        text,
        count=1,
        flags=re.S,
    )
    Path(path).write_text(text)
    return elements


def write_inputs(structure: Structure, directory: Path | str, params: LammpsMDInput) -> None:
    """Write ``input.data`` (unless restarting), ``in.lammps`` and the parameter file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not params.restart_file:
        elements = write_data_file(structure, directory / DATA_FILE)
        if elements != params.elements:
            raise ValueError(f"type order {elements} differs from the requested {params.elements}")
    (directory / INPUT_FILE).write_text(params.render())
    params.save(directory)


def type_order(structure: Structure) -> list[str]:
    """The element of each LAMMPS type that :func:`write_data_file` writes.

    The same rule as ``LammpsData.from_structure``: pymatgen's ``Element`` ordering.
    """
    return [el.symbol for el in sorted(Element(s) for s in structure.symbol_set)]


def latest_restart(directory: Path | str) -> tuple[Path, int] | None:
    """The restart file with the highest step in ``directory`` (``restart.<step>``), or None."""
    found = [
        (int(m.group(1)), p)
        for p in Path(directory).iterdir()
        if (m := RESTART_PATTERN.match(p.name))
    ]
    if not found:
        return None
    step, path = max(found)
    return path, step


def replicate_to_atoms(structure: Structure, n_atoms: int, max_repeat: int = 30) -> Structure:
    """Replicate ``structure`` to at least ``n_atoms`` atoms with the most cube-like supercell.

    Among repeats (na, nb, nc) giving at least ``n_atoms`` atoms, the one with the fewest atoms
    wins, ties broken by the smallest ratio of longest to shortest edge.
    """
    n0 = len(structure)
    if n_atoms <= n0:
        return structure.copy()
    abc = structure.lattice.abc
    best: tuple[int, float, tuple[int, int, int]] | None = None
    for reps in itertools.product(range(1, max_repeat + 1), repeat=3):
        count = n0 * math.prod(reps)
        if count < n_atoms:
            continue
        lengths = [n * a for n, a in zip(reps, abc, strict=True)]
        key = (count, max(lengths) / min(lengths), reps)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        raise ValueError(f"cannot reach {n_atoms} atoms with at most {max_repeat} repeats per axis")
    return structure * best[2]


def model_type_map(model_path: Path | str) -> list[str]:
    """The ``type_map`` stored in a frozen DeePMD model (loads the model with deepmd-kit)."""
    from deepmd.infer import DeepPot

    return list(DeepPot(str(model_path)).get_type_map())
