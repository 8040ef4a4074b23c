"""Dry run of a study (`litcl inputs`): the input files each external code would get.

The Makers of the study's Maker (``StudySpec.to_maker()``, the one
:func:`~litcl_flows.flows.study.build_study_flow` makes) and their input-set generators write
them, into one folder per step and per U set / temperature / hop; nothing runs and no
database is touched. Steps after ``spec.stop_after`` are left out, as in the flow. Where the
flow feeds a step the output of an earlier one (the relaxed cell, the AIMD frames, the trained
model, relaxed NEB endpoints), the dry run uses the ordered, unrelaxed cell and placeholder
paths; ``README.txt`` at the top of the folder says so.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litcl_flows.flows.study import ordered_cell
from litcl_flows.labels import u_folder_label

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput
    from litcl_flows.flows.spec import StudySpec
    from litcl_flows.makers.deepmd import DeepmdTrainMaker
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
    from litcl_flows.makers.neb import HopNebMaker
    from litcl_flows.makers.reference import AimdTemperaturesMaker, ReferenceDataMaker
    from litcl_flows.neb.hops import Hop

README_FILE = "README.txt"


def write_study_inputs(
    spec: StudySpec, out_dir: str | Path, linear_images: bool = False
) -> list[Path]:
    """Write the inputs of every step of ``spec`` under ``out_dir``; return the files written.

    Step folders that already exist are replaced. Everything that can fail (the ordered cell,
    the U / temperature checks, the NEB hops) is worked out before the first file is written.

    Parameters
    ----------
    spec
        Validated study spec.
    out_dir
        Folder to write into (created if missing).
    linear_images
        NEB images by linear interpolation instead of IDPP (IDPP takes seconds per hop of a
        few hundred atoms; the run interpolates between relaxed endpoints anyway).
    """
    structure, cell_summary = ordered_cell(spec)
    maker = spec.to_maker()
    reference = maker.reference_maker
    assert reference is not None  # study_maker always sets it
    reference.check(structure)
    model_file = _model_file(maker.train_maker)
    first_label = u_folder_label(spec.hubbard_u_eV[0])
    hop_maker: HopNebMaker | None = None
    if maker.neb_maker is not None:
        # The NEB runs in the first U set's cell.
        hop_maker = maker.neb_maker.hop_maker
        hops, supercell = maker.neb_maker.plan(structure)

    out = Path(out_dir)
    written: list[Path] = []
    for hubbard_u_eV in reference.hubbard_u_sets_eV:
        label = u_folder_label(hubbard_u_eV)
        relax = reference.relax_maker(hubbard_u_eV)
        written += _write_relax(
            reference, relax, structure, hubbard_u_eV, out / f"01_relax_{label}"
        )
        if reference.aimd_maker is not None:
            aimd = reference.branch_aimd_maker(hubbard_u_eV)
            for temperature_K in aimd.temperatures_K:
                folder = out / f"02_aimd_{label}_{temperature_K:g}K"
                written += _write_aimd(aimd, temperature_K, structure, folder)
        if maker.train_maker is not None:
            # One trajectory per AIMD temperature reaches the dataset job (segments joined).
            n_runs = len(reference.aimd_maker.temperatures_K) if reference.aimd_maker else 0
            folder = out / f"03_deepmd_{label}"
            written += _write_deepmd(maker.train_maker.training_input, n_runs, structure, folder)
        if maker.mlmd_maker is not None:
            model = f"../03_deepmd_{label}/{model_file}"
            for temperature_K in maker.mlmd_maker.temperatures_K:
                folder = out / f"04_mlmd_{label}_{temperature_K:g}K"
                md_maker = maker.mlmd_maker.md_maker
                written += _write_mlmd(md_maker, structure, model, temperature_K, folder)
    if hop_maker is not None:
        for hop in hops:
            folder = out / f"05_neb_{hop.direction_label.strip('[]')}"
            written += _write_neb(hop_maker, structure, hop, supercell, linear_images, folder)
    readme = out / README_FILE
    aimd_mesh = _aimd_mesh(out, spec, first_label)
    readme.write_text(
        _readme(spec, structure, cell_summary, first_label, model_file, hop_maker, aimd_mesh)
    )
    return [readme, *written]


def _fresh_folder(folder: Path) -> Path:
    """An empty ``folder``: a step folder from an earlier dry run must not leave stale files."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _write_vasp(structure: Structure, generator: Any, folder: Path) -> None:
    """atomate2's own writer (as the VASP Makers call it), POTCAR.spec in place of POTCAR."""
    from atomate2.vasp.files import write_vasp_input_set

    # clean_prev=False: atomate2 would delete input files in the current directory.
    write_vasp_input_set(structure, generator, folder, potcar_spec=True, clean_prev=False)


def _write_relax(
    reference: ReferenceDataMaker,
    maker: Any,
    structure: Structure,
    hubbard_u_eV: dict[str, float],
    folder: Path,
) -> list[Path]:
    """VASP: the (first) relaxation's inputs; CHGNet: its settings and the cell."""
    _fresh_folder(folder)
    if reference.engine.writes_vasp_inputs:
        # A double relaxation runs the same input set twice, the second from the first's cell.
        single = maker.relax_maker1 if reference.double_relax else maker
        _write_vasp(structure, single.input_set_generator, folder)
    else:
        structure.to(filename=str(folder / "POSCAR"), fmt="poscar")
        _write_json(
            folder / "relax.json",
            {
                "engine": reference.reference_engine,
                "force_field_name": maker.force_field_name,
                "fmax_eV_A": maker.relax_kwargs["fmax"],
                "max_steps": maker.steps,
                "relax_cell": maker.relax_cell,
                "hubbard_u_requested_eV": hubbard_u_eV,
                "hubbard_u_applied": False,
            },
        )
    return _files(folder)


def _write_aimd(
    aimd: AimdTemperaturesMaker, temperature_K: float, structure: Structure, folder: Path
) -> list[Path]:
    """VASP: the (first segment's) MD inputs; CHGNet: the MD settings."""
    from atomate2.vasp.flows.md import MultiMDMaker

    maker: Any = aimd.md_maker(temperature_K)
    _fresh_folder(folder)
    if aimd.engine.writes_vasp_inputs:
        # Segments share one input set; each later one restarts from its predecessor.
        first = maker.md_makers[0] if isinstance(maker, MultiMDMaker) else maker
        _write_vasp(structure, first.input_set_generator, folder)
    else:
        from ase import units

        _write_json(
            folder / "aimd.json",
            {
                "engine": aimd.reference_engine,
                "force_field_name": maker.force_field_name,
                "ensemble": str(maker.ensemble.value),
                "dynamics": maker.dynamics,
                "temperature_K": maker.temperature,
                "time_step_fs": maker.time_step,
                "n_steps": maker.n_steps,
                "thermostat_time_fs": round(maker.ase_md_kwargs["ttime"] / units.fs, 6),
                "traj_interval": maker.traj_interval,
                "hubbard_u_requested_eV": aimd.hubbard_u_eV,
                "hubbard_u_applied": False,
            },
        )
    return _files(folder)


def _aimd_mesh(out: Path, spec: StudySpec, label: str) -> tuple[int, int, int] | None:
    """The k-mesh of the first VASP AIMD folder written (None: no VASP AIMD)."""
    if not spec.engine.writes_vasp_inputs or not spec.runs("aimd"):
        return None
    from pymatgen.io.vasp import Kpoints

    folder = out / f"02_aimd_{label}_{spec.aimd.temperatures_K[0]:g}K"
    kpts = Kpoints.from_file(folder / "KPOINTS").kpts[0]
    return (int(kpts[0]), int(kpts[1]), int(kpts[2]))


def _write_deepmd(
    training_input: DeepmdTrainingInput, n_runs: int, structure: Structure, folder: Path
) -> list[Path]:
    """``input.json`` with the dataset's type map and placeholder system paths."""
    from litcl_flows.engines.deepmd.dataset import default_type_map
    from litcl_flows.engines.deepmd.inputs import write_input_json
    from litcl_flows.makers.deepmd import DATASET_FOLDER

    _fresh_folder(folder)
    # The dataset job splits frames per trajectory: one train and one valid system each.
    systems = [f"sys_{i:03d}" for i in range(n_runs)]
    write_input_json(
        folder,
        training_input,
        default_type_map(structure.symbol_set),
        [f"{DATASET_FOLDER}/train/{name}" for name in systems],
        [f"{DATASET_FOLDER}/valid/{name}" for name in systems],
    )
    return _files(folder)


def _model_file(train_maker: DeepmdTrainMaker | None) -> str:
    """File name of the model the ML-MD runs with (compressed unless turned off)."""
    from litcl_flows.engines.deepmd.jobs import COMPRESSED_MODEL, FROZEN_MODEL

    return (
        FROZEN_MODEL if train_maker is not None and not train_maker.compress else COMPRESSED_MODEL
    )


def _write_mlmd(
    maker: LammpsDeepmdMDMaker,
    structure: Structure,
    model: str,
    temperature_K: float,
    folder: Path,
) -> list[Path]:
    """``in.lammps``, the data file of the MD cell and the run parameters (with its record)."""
    from litcl_flows.engines.deepmd.dataset import default_type_map
    from litcl_flows.engines.lammps import write_inputs

    # The type map the dataset job gives the model, so no model file is read.
    cell, params = maker.fresh_input(
        structure, model, temperature_K, default_type_map(structure.symbol_set)
    )
    write_inputs(cell, _fresh_folder(folder), params)
    return _files(folder)


def _write_neb(
    hop_maker: HopNebMaker,
    structure: Structure,
    hop: Hop,
    supercell: tuple[int, int, int],
    linear_images: bool,
    folder: Path,
) -> list[Path]:
    """One hop: ``neb/00 … NN/POSCAR`` (VASP: with the NEB and endpoint-relaxation inputs)."""
    from litcl_flows.makers.neb import MLHopNebMaker, VaspHopNebMaker
    from litcl_flows.neb.endpoints import cell_charge_e, hop_endpoints, neb_images

    start, end = hop_endpoints(structure, hop, supercell)
    idpp = hop_maker.idpp and not linear_images
    images = neb_images(start, end, hop_maker.num_images, idpp=idpp)
    _fresh_folder(folder)
    neb_dir = folder / "neb"
    image_kpoints = None
    settings: dict[str, Any] = {
        "engine": hop_maker.engine,
        "direction": hop.direction_label,
        "cell_setting": hop.cell_setting,
        "mechanism": hop.mechanism,
        "end_site": hop.end_site,
        "hop_length_A": hop.length_A,
        "crosses_layers": hop.crosses_layers,
        "stacking_offset_A": hop.stacking_offset_A,
        "path_clearance_A": hop.path_clearance_A,
        "study_label": hop.study_label,
        "cell_charge_e": cell_charge_e(start),
        "supercell": list(supercell),
        "num_images": hop_maker.num_images,
        "climbing_image": hop_maker.climbing_image,
        "images": "idpp" if idpp else "linear",
    }
    if isinstance(hop_maker, VaspHopNebMaker):
        neb_maker = hop_maker.neb_maker
        assert neb_maker is not None  # set in VaspHopNebMaker.__post_init__
        relax = hop_maker.endpoint_relax_maker()
        for which, endpoint in (("start", start), ("end", end)):
            _write_vasp(endpoint, relax.input_set_generator, folder / f"relax_{which}")
        # NebFromImagesMaker.make sets IMAGES from the images it is given, then writes.
        neb_maker.input_set_generator.num_images = len(images) - 2
        _write_vasp(images[0], neb_maker.input_set_generator, neb_dir)
        # NebFromImagesMaker's "KPOINTS kludge": a copy in each image folder.
        if neb_maker.kpoints_kludge:
            image_kpoints = neb_dir / "KPOINTS"
    elif isinstance(hop_maker, MLHopNebMaker):
        settings |= {
            "force_field_name": hop_maker.force_field_name,
            "calculator_kwargs": hop_maker.calculator_kwargs,
            "fmax_eV_A": hop_maker.fmax_eV_A,
            "max_steps": hop_maker.max_steps,
            "neb_kwargs": hop_maker.neb_kwargs,
            "endpoint_fmax_eV_A": hop_maker.endpoint_fmax_eV_A,
            "endpoint_max_steps": hop_maker.endpoint_max_steps,
        }
    for index, image in enumerate(images):
        image_dir = neb_dir / f"{index:02d}"
        image_dir.mkdir(parents=True, exist_ok=True)
        image.to(filename=str(image_dir / "POSCAR"), fmt="poscar")
        if image_kpoints is not None:
            shutil.copy(image_kpoints, image_dir)
    _write_json(folder / "neb.json", settings)
    return _files(folder)


def _readme(
    spec: StudySpec,
    structure: Structure,
    cell_summary: dict[str, Any] | None,
    first_label: str,
    model_file: str,
    hop_maker: HopNebMaker | None,
    aimd_mesh: tuple[int, int, int] | None = None,
) -> str:
    """What each folder holds and where the dry run differs from the submitted flow."""
    lines = [
        *_cell_lines(spec, structure, cell_summary),
        "",
        "Folders (<U>: the U set's label, U(Ti)=4 as U_Ti4, U=0 as U0; <T>: temperature):",
        *_folder_lines(spec, hop_maker, aimd_mesh),
        "",
        "Where the submitted flow differs:",
        *_difference_lines(spec, first_label, model_file, hop_maker),
    ]
    return "\n".join(lines) + "\n"


def _cell_lines(
    spec: StudySpec, structure: Structure, cell_summary: dict[str, Any] | None
) -> list[str]:
    """The README's heading and the ordered cell, with the occupancies of its partial sites."""
    order = f"ordering seed {cell_summary['seed']}" if cell_summary else "majority order"
    lines = [
        f"Dry run of study {spec.name!r} (profile {spec.profile}, reference engine "
        f"{spec.reference_engine}, stop_after {spec.stop_after}).",
        "The input files each external code would get; nothing was run.",
        "",
        f"Ordered cell: {structure.composition.formula}, {len(structure)} atoms ({order}).",
    ]
    lines += [
        f"  {row['species']} on {row['orbit']}: {row['n_atoms']}/{row['n_sites']} = "
        f"{row['achieved_occupancy']:.3f} (target {row['target_occupancy']:g})"
        for row in (cell_summary or {}).get("occupancies", [])
        if row["target_occupancy"] < 1
    ]
    return lines


def _folder_lines(
    spec: StudySpec, hop_maker: HopNebMaker | None, aimd_mesh: tuple[int, int, int] | None
) -> list[str]:
    """One entry per step folder the dry run wrote."""
    lines = []
    if spec.engine.writes_vasp_inputs:
        twice = ", run twice, the second from the first's cell" if spec.relax.double_relax else ""
        lines += [
            f"  01_relax_<U>/       VASP relaxation (ISIF 3{twice}).",
            "                      POTCAR.spec names the POTCARs (their files are licensed).",
        ]
    else:
        lines.append("  01_relax_<U>/       CHGNet relaxation settings and the cell (POSCAR).")
    if spec.runs("aimd"):
        lines += _aimd_folder_lines(spec, aimd_mesh)
    if spec.runs("train"):
        lines.append("  03_deepmd_<U>/      DeePMD-kit input.json (dp --tf train input.json).")
    if spec.runs("mlmd"):
        lines.append("  04_mlmd_<U>_<T>K/   LAMMPS in.lammps, input.data, litcl_lammps.json.")
        if spec.mlmd.cell == "disordered":
            how = [
                "MD cell: the disordered parent replicated, partial sites filled at random",
                f"at the target occupancies (seed {spec.mlmd.cell_seed}), not the ordered cell",
                "tiled; 'cell' in litcl_lammps.json records the achieved occupancies.",
            ]
        else:
            how = ["MD cell: the ordered cell tiled (a superlattice of one ordering)."]
        lines += [f"                      {line}" for line in how]
    if hop_maker is not None:
        lines += _neb_folder_lines(hop_maker)
    return lines


def _aimd_folder_lines(spec: StudySpec, aimd_mesh: tuple[int, int, int] | None) -> list[str]:
    """The AIMD folder: engine, k-points and their cost, segments."""
    from litcl_flows.engines.vasp.sets import n_kpoints_time_reversal

    vasp = spec.engine.writes_vasp_inputs
    lines = [
        f"  02_aimd_<U>_<T>K/   {spec.engine.display_name} NVT MD"
        + (" inputs." if vasp else " settings.")
    ]
    if aimd_mesh is not None:
        n_k = n_kpoints_time_reversal(aimd_mesh)
        source = {"relax": "the relaxation's", "gamma": "Γ only"}.get(
            str(spec.aimd.kpoint_mesh), "aimd.kpoint_mesh"
        )
        cost = f",\n                      about {n_k}× the cost of a Γ-only step" if n_k > 1 else ""
        lines.append(
            f"                      k-points {'×'.join(map(str, aimd_mesh))} Γ-centred "
            f"({source}): {n_k} with ISYM = 0{cost}."
        )
    if vasp and spec.aimd.n_segments > 1:
        lines.append(
            f"                      {spec.aimd.n_segments} segments of NSW steps run in "
            "turn, each restarting from the last."
        )
    return lines


def _neb_folder_lines(hop_maker: HopNebMaker) -> list[str]:
    """The NEB folder, and what a VASP NEB adds to it."""
    from litcl_flows.makers.neb import VaspHopNebMaker

    lines = [
        "  05_neb_<uvw>/       One elementary hop: neb.json (direction in the cell of "
        "material.structure,",
        "                      end site, length, layers, path clearance, the study's label "
        "of the same",
        "                      geometry), neb/00 … neb/NN/POSCAR.",
    ]
    if isinstance(hop_maker, VaspHopNebMaker):
        lines += [
            "                      neb/ is a VASP NEB folder; relax_start|end/ relax the "
            "endpoints with the",
            "                      images' electronic settings (PREC, EDIFF, ISYM = 0, "
            "NELECT: a Li+ vacancy",
            "                      has NELECT = default + 1).",
        ]
    return lines


def _difference_lines(
    spec: StudySpec, first_label: str, model_file: str, hop_maker: HopNebMaker | None
) -> list[str]:
    """Where the submitted flow feeds a step what the dry run stands in for."""
    from litcl_flows.makers.deepmd import DATASET_FOLDER

    lines = []
    if spec.runs("aimd"):
        lines.append(
            "  - Later steps start from the relaxed cell of their U set (NEB: the first set),"
        )
        lines.append("    not from the ordered, unrelaxed cell used here.")
    if spec.runs("train"):
        lines.append(
            f"  - The dataset job writes {DATASET_FOLDER}/train|valid/sys_NNN from the AIMD frames."
        )
    if spec.runs("mlmd"):
        lines.append(
            f"  - ../03_deepmd_<U>/{model_file} stands for the trained model's absolute path."
        )
        rule = spec.mlmd.run_length
        if rule is not None:
            first = min(spec.mlmd.n_steps, spec.mlmd.equilibration_steps + rule.check_every_steps)
            lines += [
                f"  - in.lammps runs to step {first}, the first run-length verdict "
                "(mlmd.run_length); the run",
                f"    then goes on {rule.check_every_steps} steps at a time until D_self is "
                f"known or step {spec.mlmd.n_steps}.",
            ]
    if hop_maker is not None:
        lines.append(
            f"  - NEB images join the relaxed endpoints (in the {first_label} cell), "
            "not the unrelaxed ones."
        )
    return lines
