"""``litcl analyze`` and ``litcl arrhenius`` end to end on synthetic dumps with known truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from litcl_flows.analysis.synthetic import pair_walk
from litcl_flows.analysis.transport import conductivity_mS_cm
from litcl_flows.analysis.transport_numbers import JSON_KEYS
from litcl_flows.cli.analyze import analyze, arrhenius
from litcl_flows.io import write_lammps_dump

BOX_A = 12.0


def _write_dump(path: Path, n_frames: int = 1500, drift: bool = True) -> None:
    """Wrapped dump: 40 Li on a pair walk (D_self 1e-4 cm²/s, H_R 2) + 20 Cl, all drifting."""
    li, _ = pair_walk(40, n_frames, 0.01, 1e-4, 2.0, box_A=BOX_A, seed=5)
    rng = np.random.default_rng(6)
    cl = rng.uniform(0, BOX_A, (1, 20, 3)) + rng.normal(0, 0.05, (n_frames, 20, 3))
    shift = np.linspace(0, 3.0 if drift else 0.0, n_frames)[:, None, None]
    positions = np.concatenate([li, cl], axis=1) + shift
    types = np.array([1] * 40 + [2] * 20)
    with open(path, "w") as handle:
        for i, pos in enumerate(positions):
            write_lammps_dump(handle, 10 * i, BOX_A * np.eye(3), np.mod(pos, BOX_A), types)


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "li.dump"
    _write_dump(path)
    return path


def _run(command, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, args)
    return result.exit_code, result.stdout, result.stderr


def test_analyze_json(dump: Path, tmp_path: Path) -> None:
    code, out, err = _run(
        analyze,
        [
            str(dump),
            "--mobile",
            "Li",
            "--temperature",
            "600",
            "--time-step-fs",
            "1",
            "--type-map",
            "Li,Cl",
            "--json",
            "--plot",
            str(tmp_path / "plots"),
        ],
    )
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == list(JSON_KEYS)
    assert data["n_frames"] == 1500
    assert data["n_mobile"] == 40
    assert data["temperature_K"] == 600.0
    assert data["mobile_density_cm3"] == pytest.approx(40 / (BOX_A**3 * 1e-24))
    # 10 steps × 1 fs per frame; blocks of 300 frames → window 10–50 % of 2.99 ps.
    assert data["fit_window_ps"] == pytest.approx([0.299, 1.495])
    assert data["D_self_cm2_s"] == pytest.approx(1e-4, rel=0.1)
    assert abs(data["D_total_cm2_s"] - 5e-5) < 4 * data["D_total_stderr_cm2_s"]
    assert data["conductivity_mS_cm"] == pytest.approx(
        conductivity_mS_cm(data["D_total_cm2_s"], data["mobile_density_cm3"], 600.0)
    )
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "msd_li_600K.png",
        "msd_li_600K.svg",
    ]


def test_analyze_without_drift_correction_sees_the_drift(dump: Path) -> None:
    args = [str(dump), "--temperature", "600", "--time-step-fs", "1", "--type-map", "Li,Cl"]
    corrected = json.loads(_run(analyze, [*args, "--json"])[1])
    raw = json.loads(_run(analyze, [*args, "--json", "--no-drift-correction"])[1])
    # A uniform 3 Å drift over 15 ps adds ~|v|²t² to both MSDs: D_total inflates most.
    assert raw["D_total_cm2_s"] > corrected["D_total_cm2_s"] + 3 * corrected["D_total_stderr_cm2_s"]


def test_analyze_text_output(dump: Path) -> None:
    code, out, _ = _run(
        analyze, [str(dump), "--temperature", "600", "--time-step-fs", "1", "--type-map", "Li,Cl"]
    )
    assert code == 0
    assert "D_self" in out and "H_R" in out and "mS/cm" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type-map", "Li"], "names only 1"),
        (["--type-map", "Na,Cl", "--mobile", "Li"], "frame 0: no Li atoms"),
    ],
)
def test_analyze_bad_input_is_one_line(dump: Path, args: list[str], message: str) -> None:
    code, _, err = _run(analyze, [str(dump), "--temperature", "600", "--time-step-fs", "1", *args])
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ") and str(dump) in lines[0] and message in lines[0]


def test_analyze_truncated_file(dump: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.dump"
    broken.write_bytes(dump.read_bytes()[:-40])
    code, _, err = _run(
        analyze, [str(broken), "--temperature", "600", "--time-step-fs", "1", "--type-map", "Li,Cl"]
    )
    assert code == 1
    assert "frame 1499 (step 14990)" in err and len(err.strip().splitlines()) == 1


def test_arrhenius_recovers_activation_energy(tmp_path: Path) -> None:
    k_eV = 8.617333262e-5
    files = []
    for t in (298.0, 313.0, 328.0, 333.0, 358.0, 373.0):
        sigma = 2.0e4 * np.exp(-0.29 / (k_eV * t))
        path = tmp_path / f"{t:g}.json"
        path.write_text(
            json.dumps(
                {
                    "temperature_K": t,
                    "conductivity_mS_cm": sigma,
                    "conductivity_stderr_mS_cm": 0.02 * sigma,
                }
            )
        )
        files.append(str(path))
    code, out, err = _run(arrhenius, [*files, "--json", "--plot", str(tmp_path / "arr.png")])
    assert code == 0, err
    fit = json.loads(out)
    assert fit["form"] == "sigma"
    assert fit["activation_energy_eV"] == pytest.approx(0.29, abs=1e-9)
    assert fit["conductivity_298K_mS_cm"] == pytest.approx(2.0e4 * np.exp(-0.29 / (k_eV * 298.15)))
    lo, hi = fit["conductivity_interval_mS_cm"]
    assert lo < fit["conductivity_298K_mS_cm"] < hi
    assert (tmp_path / "arr.png").exists() and (tmp_path / "arr.svg").exists()
    code, out, _ = _run(arrhenius, [*files, "--form", "sigma_T", "--json"])
    # σ ∝ exp(−Ea/kT) is not of the σT form: ln(σT) has slope −Ea/k + (a T-dependent part),
    # which a straight line in 1/T sees as a larger apparent Ea (≈ Ea + k⟨T⟩ ≈ 0.319 eV).
    assert json.loads(out)["activation_energy_eV"] == pytest.approx(0.29 + k_eV * 335, abs=2e-3)
    code, _, err = _run(arrhenius, [files[0], str(tmp_path / "arr.svg")])
    assert code == 1 and "arr.svg: not an analyze --json result" in err


def _layered_dump(path: Path, n_frames: int = 200) -> None:
    """Li on a 3 Å grid in planes z = 1, 5, 9, 13 of a 12 × 12 × 16 Å cell (every other site
    filled), Ti planes at z = 3, 7, 11, 15; ion 0 hops +x at frame 60, ion 1 hops +z at 120."""
    grid = np.array([(i, j, k) for i in range(4) for j in range(4) for k in range(4)])
    li = grid[grid.sum(axis=1) % 2 == 0] * [3.0, 3.0, 4.0] + [1.5, 1.5, 1.0]
    ti = grid * [3.0, 3.0, 4.0] + [1.5, 1.5, 3.0]
    cell = np.diag([12.0, 12.0, 16.0])
    lattice = np.repeat(li[None], n_frames, axis=0)
    lattice[60:, 0, 0] += 3.0
    lattice[120:, 1, 2] += 4.0
    rng = np.random.default_rng(2)
    types = np.array([1] * len(li) + [2] * len(ti))
    with open(path, "w") as handle:
        for t in range(n_frames):
            positions = np.concatenate([lattice[t], ti]) + rng.normal(0, 0.12, (len(types), 3))
            write_lammps_dump(handle, t, cell, np.mod(positions, [12.0, 12.0, 16.0]), types)


@pytest.mark.parametrize("stacking", ["004", "auto"])
def test_analyze_rdf_and_hops_sections(tmp_path: Path, stacking: str) -> None:
    path = tmp_path / "layered.dump"
    _layered_dump(path)
    base = [str(path), "--temperature", "300", "--time-step-fs", "1", "--type-map", "Li,Ti"]
    rdf = ["--rdf", "Li-Ti,Li-Li", "--rdf-r-max", "5.5", "--rdf-bins", "110", "--rdf-stride", "4"]
    hop_args = ["--stacking", stacking, "--json", "--plot", str(tmp_path / "p")]
    code, out, err = _run(analyze, [*base, *rdf, *hop_args])
    assert code == 0, err
    data = json.loads(out)
    # The default keys are untouched; the sections come only when asked for.
    assert list(data) == [*JSON_KEYS, "rdf", "hops"]
    assert data["rdf"]["Li-Ti"]["n_frames"] == 50
    # Each Li sits 2 Å from the Ti above and below it: first Li-Ti shell at 2 Å, 2 neighbours.
    assert data["rdf"]["Li-Ti"]["first_peak_r_A"] == pytest.approx(2.0, abs=0.1)
    assert data["rdf"]["Li-Ti"]["coordination_number"] == pytest.approx(2.0, abs=0.05)
    hops = data["hops"]
    assert (hops["n_hops"], hops["n_intra_layer_hops"], hops["n_inter_layer_hops"]) == (2, 1, 1)
    assert hops["stacking_hkl"] == [0, 0, 4] and hops["layer_spacing_A"] == pytest.approx(4.0)
    # Two hops among 32 ions: the run is flagged as too short.
    assert "only 2 hop events among 32 ions" in err
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == sorted(
        f"{kind}_layered_300K.{ext}" for kind in ("msd", "rdf", "hops") for ext in ("png", "svg")
    )
    code, out, _ = _run(analyze, [*base, "--rdf", "Li-Ti", "--stacking", stacking])
    assert code == 0
    assert "g Li-Ti" in out and "2 (1 intra-layer, 1 inter-layer)" in out


def test_analyze_chained_files_and_bad_rdf_radius(tmp_path: Path) -> None:
    whole = tmp_path / "whole.dump"
    _write_dump(whole, n_frames=300)
    frames = whole.read_text().split("ITEM: TIMESTEP")[1:]
    first, second = tmp_path / "part1.dump", tmp_path / "part2.dump"
    # Restart at frame 150: it appears at the end of part 1 and the start of part 2.
    first.write_text("".join("ITEM: TIMESTEP" + f for f in frames[:151]))
    second.write_text("".join("ITEM: TIMESTEP" + f for f in frames[150:]))
    base = ["--temperature", "600", "--time-step-fs", "1", "--type-map", "Li,Cl", "--json"]
    code, out, err = _run(analyze, [str(first), str(second), *base])
    assert code == 0, err
    chained = json.loads(out)
    assert chained == json.loads(_run(analyze, [str(whole), *base])[1])
    assert chained["n_frames"] == 300
    code, _, err = _run(analyze, [str(whole), *base, "--rdf", "Li-Li", "--rdf-r-max", "7"])
    assert code == 1 and "r_max 7 Å exceeds half the smallest cell width (6 Å)" in err


def _imported(probe: str, modules: list[str]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``probe``."""
    loaded = f"[m for m in {modules!r} if m in sys.modules]"
    code = f"import json, sys\n{probe}\nprint(json.dumps({loaded}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_transport_numbers_cost_neither_side_the_others_imports(dump: Path) -> None:
    """``litcl analyze`` and the stored document share the transport numbers' names and
    descriptions, yet ``analyze`` loads no pydantic and the schemas (``litcl query``) no numpy."""
    args = [str(dump), "--temperature", "600", "--time-step-fs", "1", "--type-map", "Li,Cl"]
    run_analyze = (
        "from click.testing import CliRunner\n"
        "from litcl_flows.cli.analyze import analyze\n"
        f"assert CliRunner().invoke(analyze, {[*args, '--json']!r}).exit_code == 0"
    )
    assert _imported(run_analyze, ["pydantic"]) == []
    assert _imported("import litcl_flows.schemas.study", ["numpy", "scipy"]) == []
