"""`litcl inputs`: the dry run writes the study's inputs, checked against the study's numbers.

Expected values are the reference study's (docs/study.md), not read from the code.
Nothing runs: no VASP, CHGNet, dp or lmp.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pymatgen.core import Composition, Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from litcl_flows.cli.main import cli
from litcl_flows.flows.inputs import write_study_inputs
from litcl_flows.flows.spec import StudySpec, load_spec

ROOT = Path(__file__).resolve().parents[2]
PAPER_SPEC = ROOT / "workflows" / "li3ticl6_paper.yaml"
DEMO_SPEC = ROOT / "workflows" / "li3ticl6_demo.yaml"

# §1: 8 conventional cells × 2 formula units of Li3TiCl6 = 160 atoms.
CELL_COMPOSITION = Composition({"Li": 3 * 16, "Ti": 16, "Cl": 6 * 16})
# §2: PBE+U (Dudarev, LDAUTYPE 2) on Ti-3d (l = 2), U_eff 0 and 4 eV; ENCUT 450 eV;
# Γ-centred 4×2×4 for 160 atoms; forces below 10 meV/Å (EDIFFG = −0.01); cell relaxed.
U_SETS = {"U_Ti4": 4.0, "U0": 0.0}
ENCUT_eV = 450
KPOINT_MESH = (4, 2, 4)
EDIFFG = -10e-3
# §3: NVT (Nosé–Hoover: MDALGO 2, fixed cell ISIF 2), 1 fs.
AIMD_TIME_STEP_fs = 1.0
# §4: DeepPot-SE.
DESCRIPTOR, RCUT_A, EMBEDDING, FITTING, ACTIVATION = (
    "se_e2_a",
    7.0,
    [32, 64, 128],
    [256] * 3,
    "tanh",
)
START_LR, STOP_LR, DECAY_STEPS, NUMB_STEPS = 1e-3, 1e-8, 5000, 10_000
# §5: ~20,000 atoms, metal units (ps), dt 1 fs, Tdamp 100 fs, 5.5 ns, CG minimisation first.
ML_TEMPERATURES_K = (298, 313, 328, 333, 358, 373)
ML_TIMESTEP_ps = 1e-3
TDAMP_ps = 0.1
ML_STEPS = round(5.5e-9 / 1e-15)
ML_ATOMS = 20_000
# §6: NEB directions; 5 images + 2 endpoints.
NEB_DIRECTIONS = ("010", "310", "101", "013")  # elementary hops (docs/neb.md)
NEB_FOLDERS = 7


def _by_element(poscar: Poscar, values: list) -> dict:
    """INCAR per-species list → {element: value} in POSCAR species order."""
    return dict(zip(poscar.site_symbols, values, strict=True))


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudySpec, Path, list[Path]]:
    spec = load_spec(PAPER_SPEC)
    out = tmp_path_factory.mktemp("paper")
    return spec, out, write_study_inputs(spec, out, linear_images=True)


def test_paper_writes_listed_files_and_readme(paper):
    _, out, written = paper
    assert sorted(written) == sorted(p for p in out.rglob("*") if p.is_file())
    readme = (out / "README.txt").read_text()
    assert "unrelaxed" in readme and "li3ticl6-paper" in readme


@pytest.mark.parametrize(("label", "u_eV"), U_SETS.items())
def test_paper_relaxation_inputs(paper, label, u_eV):
    _, out, _ = paper
    folder = out / f"01_relax_{label}"
    incar = Incar.from_file(folder / "INCAR")
    poscar = Poscar.from_file(folder / "POSCAR")
    assert poscar.structure.composition == CELL_COMPOSITION
    assert incar["ENCUT"] == ENCUT_eV
    assert incar["EDIFFG"] == pytest.approx(EDIFFG)
    assert incar["ISIF"] == 3
    assert incar["GGA"].upper() == "PE"
    if u_eV:
        assert incar["LDAU"] is True
        assert incar["LDAUTYPE"] == 2
        assert _by_element(poscar, incar["LDAUU"]) == {"Li": 0, "Ti": u_eV, "Cl": 0}
        assert _by_element(poscar, incar["LDAUL"])["Ti"] == 2
        assert _by_element(poscar, incar["LDAUJ"])["Ti"] == 0
    else:
        assert incar["LDAU"] is False
        assert "LDAUU" not in incar
    kpoints = Kpoints.from_file(folder / "KPOINTS")
    assert kpoints.style == Kpoints.supported_modes.Gamma
    assert tuple(kpoints.kpts[0]) == KPOINT_MESH
    potcars = (folder / "POTCAR.spec").read_text().split()
    assert [symbol.split("_")[0] for symbol in potcars] == poscar.site_symbols
    assert not (folder / "POTCAR").exists()


@pytest.mark.parametrize(("label", "u_eV"), U_SETS.items())
def test_paper_aimd_inputs(paper, label, u_eV):
    spec, out, _ = paper
    # The study gives no AIMD temperatures ("several"): the spec's, one folder each.
    temperatures = spec.aimd.temperatures_K
    folders = sorted(out.glob(f"02_aimd_{label}_*K"))
    assert len(folders) == len(temperatures)
    for temperature_K in temperatures:
        folder = out / f"02_aimd_{label}_{temperature_K:g}K"
        incar = Incar.from_file(folder / "INCAR")
        poscar = Poscar.from_file(folder / "POSCAR")
        assert poscar.structure.composition == CELL_COMPOSITION
        assert incar["POTIM"] == AIMD_TIME_STEP_fs
        assert incar["TEBEG"] == incar["TEEND"] == temperature_K
        assert incar["MDALGO"] == 2
        assert incar["ISIF"] == 2
        assert incar["IBRION"] == 0
        assert incar["NSW"] == spec.aimd.n_steps
        assert incar["ENCUT"] == ENCUT_eV
        assert incar["LDAU"] is bool(u_eV)
        if u_eV:
            assert _by_element(poscar, incar["LDAUU"])["Ti"] == u_eV


@pytest.mark.parametrize("label", U_SETS)
def test_paper_deepmd_input(paper, label):
    _, out, _ = paper
    content = json.loads((out / f"03_deepmd_{label}" / "input.json").read_text())
    model = content["model"]
    assert sorted(model["type_map"]) == sorted(["Li", "Ti", "Cl"])
    descriptor, fitting = model["descriptor"], model["fitting_net"]
    assert descriptor["type"] == DESCRIPTOR
    assert descriptor["rcut"] == RCUT_A
    assert descriptor["neuron"] == EMBEDDING
    assert fitting["neuron"] == FITTING
    assert descriptor["activation_function"] == fitting["activation_function"] == ACTIVATION
    lr = content["learning_rate"]
    assert (lr["start_lr"], lr["stop_lr"], lr["decay_steps"]) == (START_LR, STOP_LR, DECAY_STEPS)
    assert content["training"]["numb_steps"] == NUMB_STEPS
    # Energy and force loss only (§4).
    assert content["loss"]["start_pref_v"] == content["loss"]["limit_pref_v"] == 0
    systems = content["training"]["training_data"]["systems"]
    assert systems and all(s.startswith("deepmd_data/train/") for s in systems)


@pytest.mark.parametrize("label", U_SETS)
def test_paper_lammps_inputs(paper, label):
    _, out, _ = paper
    assert len(list(out.glob(f"04_mlmd_{label}_*K"))) == len(ML_TEMPERATURES_K)
    for temperature_K in ML_TEMPERATURES_K:
        folder = out / f"04_mlmd_{label}_{temperature_K}K"
        text = (folder / "in.lammps").read_text()
        lines = text.splitlines()
        assert "units metal" in lines
        assert re.search(rf"^pair_style deepmd \.\./03_deepmd_{label}/\S+\.pb$", text, re.M)
        assert float(re.search(r"^timestep (\S+)$", text, re.M).group(1)) == ML_TIMESTEP_ps
        fix = re.search(r"^fix \S+ all nvt temp (\S+) (\S+) (\S+)$", text, re.M)
        assert [float(v) for v in fix.groups()] == [temperature_K, temperature_K, TDAMP_ps]
        assert re.search(r"^velocity all create (\S+) ", text, re.M).group(1) == f"{temperature_K}"
        run = re.search(r"^run (\d+)", text, re.M)
        assert int(run.group(1)) == ML_STEPS
        minimize = next(i for i, line in enumerate(lines) if line.startswith("minimize "))
        assert minimize < lines.index(run.group(0) + " upto")
        data = (folder / "input.data").read_text()
        n_atoms = int(re.search(r"^\s*(\d+)\s+atoms$", data, re.M).group(1))
        assert abs(n_atoms - ML_ATOMS) <= 0.05 * ML_ATOMS
        # pair_coeff names the elements in the data file's type order.
        labels = re.search(r"Atom Type Labels\n\n(.*?)\n\n", data, re.S).group(1).split("\n")
        coeff = re.search(r"^pair_coeff \* \* (.+)$", text, re.M).group(1).split()
        assert coeff == [line.split()[1] for line in labels]


@pytest.mark.parametrize("direction", NEB_DIRECTIONS)
def test_paper_neb_inputs(paper, direction):
    _, out, _ = paper
    folder = out / f"05_neb_{direction}"
    neb = folder / "neb"
    image_dirs = sorted(p for p in neb.iterdir() if p.is_dir())
    assert [p.name for p in image_dirs] == [f"{i:02d}" for i in range(NEB_FOLDERS)]
    images = [Structure.from_file(p / "POSCAR") for p in image_dirs]
    comp = images[0].composition
    # A Li vacancy hop: one Li fewer than a whole number of Li3TiCl6 formula units; a hop to
    # an empty Ti site keeps every Li.
    removed = 1 if json.loads((folder / "neb.json").read_text())["mechanism"] == "vacancy" else 0
    assert comp["Cl"] == 6 * comp["Ti"] and comp["Li"] == 3 * comp["Ti"] - removed
    assert all(image.composition == comp for image in images)
    incar = Incar.from_file(neb / "INCAR")
    assert incar["IMAGES"] == NEB_FOLDERS - 2
    assert incar["ENCUT"] == ENCUT_eV
    # The NEB runs in the first U set's cell: U_eff 4 eV on Ti (paper spec).
    poscar = Poscar.from_file(neb / "POSCAR")
    assert _by_element(poscar, incar["LDAUU"])["Ti"] == 4.0
    for which in ("start", "end"):
        assert Incar.from_file(folder / f"relax_{which}" / "INCAR")["ISIF"] == 2
    settings = json.loads((folder / "neb.json").read_text())
    assert settings["direction"] == f"[{direction}]"
    assert settings["engine"] == "vasp"


def test_demo_spec_writes_chgnet_settings(tmp_path):
    spec = load_spec(DEMO_SPEC)
    written = write_study_inputs(spec, tmp_path, linear_images=True)
    assert not [p for p in written if p.name in ("INCAR", "KPOINTS", "POTCAR.spec")]
    relax_dir = tmp_path / "01_relax_U_Ti4"
    relax = json.loads((relax_dir / "relax.json").read_text())
    assert relax["fmax_eV_A"] == spec.relax.fmax_eV_A
    assert relax["max_steps"] == spec.relax.max_steps
    assert relax["relax_cell"] is True
    assert relax["hubbard_u_applied"] is False
    assert Structure.from_file(relax_dir / "POSCAR").composition == CELL_COMPOSITION / 2
    for temperature_K in spec.aimd.temperatures_K:
        aimd = json.loads(
            (tmp_path / f"02_aimd_U_Ti4_{temperature_K:g}K" / "aimd.json").read_text()
        )
        assert aimd["temperature_K"] == temperature_K
        assert aimd["n_steps"] == spec.aimd.n_steps
        assert aimd["ensemble"] == "nvt"
    assert len(list(tmp_path.glob("04_mlmd_U_Ti4_*K/in.lammps"))) == len(spec.mlmd.temperatures_K)
    # the demo's length is set by D's error: the first chunk runs to the first verdict,
    # 200 steps of equilibration + 2200
    for in_lammps in tmp_path.glob("04_mlmd_U_Ti4_*K/in.lammps"):
        assert "run 2400 upto" in in_lammps.read_text()
    readme = (tmp_path / "README.txt").read_text()
    assert "in.lammps runs to step 2400, the first run-length verdict" in readme
    assert "2200 steps at a time until D_self is known or step 3000" in readme
    neb = json.loads((tmp_path / "05_neb_010" / "neb.json").read_text())
    assert neb["engine"] == "chgnet"
    assert len(list((tmp_path / "05_neb_010" / "neb").glob("*/POSCAR"))) == spec.neb.num_images + 2


@pytest.mark.parametrize(
    ("stop_after", "neb", "steps"),
    [
        ("relax", True, {"01"}),
        ("train", True, {"01", "02", "03"}),
        ("mlmd", True, {"01", "02", "03", "04"}),
        ("study", False, {"01", "02", "03", "04"}),
    ],
)
def test_stop_after_and_neb_switch(tmp_path, stop_after, neb, steps):
    spec = load_spec(DEMO_SPEC)
    spec = spec.model_copy(
        update={"stop_after": stop_after, "neb": spec.neb.model_copy(update={"enabled": neb})}
    )
    write_study_inputs(spec, tmp_path, linear_images=True)
    folders = {p.name[:2] for p in tmp_path.iterdir() if p.is_dir()}
    assert folders == steps


def _cli(*args: str):
    return CliRunner().invoke(cli, ["inputs", *args])


def test_cli_json_refuses_non_empty_and_force_replaces(tmp_path):
    out = tmp_path / "inputs"
    result = _cli(str(DEMO_SPEC), "-o", str(out), "--linear-images", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert sorted(listed) == sorted(str(p) for p in out.rglob("*") if p.is_file())

    refused = _cli(str(DEMO_SPEC), "-o", str(out), "--linear-images")
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "--force" in refused.output

    stale = out / "01_relax_U_Ti4" / "INCAR"
    stale.write_text("stale")
    forced = _cli(str(DEMO_SPEC), "-o", str(out), "--linear-images", "--force")
    assert forced.exit_code == 0, forced.output
    assert not stale.exists()
    assert "README.txt" in forced.output


def test_cli_bad_spec_is_one_line(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("version: 1\nname: bad\nmaterial: {structure: li3ticl6}\nrelax: {encut: 400}\n")
    result = _cli(str(spec), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert "relax.encut" in result.output
    assert not (tmp_path / "out").exists()
