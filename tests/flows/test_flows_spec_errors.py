"""A bad study spec fails at submit with one line naming the field or file; nothing is queued."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD = """\
name: bad-spec-test
material:
  structure: li3ticl6
relax:
  fmax_eV_A: 0.1
"""


def _refused_submit(litcl, tmp_path: Path, spec_text: str, env: dict[str, str]) -> str:
    """``litcl submit`` of ``spec_text`` in a child with ``env`` after ``litcl init``: it must
    fail with exactly one line on stderr, which is returned."""
    import subprocess
    import sys

    assert litcl("init").returncode == 0
    spec = tmp_path / "study.yaml"
    spec.write_text(spec_text)
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", "submit", str(spec)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    return line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD + "  fmax_ev_a: 0.2\n", "relax.fmax_ev_a: Extra inputs are not permitted"),
        (GOOD.replace("fmax_eV_A: 0.1", "fmax_eV_A: tight"), "relax.fmax_eV_A: Input should be"),
        (GOOD.replace("li3ticl6", "missing/Li3TiCl6.cif"), "structure file not found"),
        (GOOD + "colour: blue\n", "colour: Extra inputs are not permitted"),
        (GOOD.replace("name: bad-spec-test", "name: 3 words here"), "name: String should match"),
        (
            GOOD + "mlmd:\n  temperatures_K: [600, 700]\n",
            "mlmd.temperatures_K: 2 temperature(s); the Arrhenius fit needs at least 3",
        ),
        (
            GOOD + "deepmd:\n  overrides: {rcut: 6}\n",
            "deepmd.overrides: unknown DeePMD setting(s) rcut",
        ),
        (GOOD + "neb:\n  directions: ['110']\n", "neb.directions: '110' is not a direction"),
        (
            GOOD + "analysis:\n  fit_window_ps: [0.7, 0.2]\n",
            "analysis.fit_window_ps: [0.7, 0.2] ps: the start must come before the end",
        ),
        (
            GOOD.replace("  structure: li3ticl6", "  structure: li3ticl6\n  mobile_species: Na"),
            "material: mobile_species Na is not in the structure (it holds Cl, Li, Ti)",
        ),
        (GOOD + "neb:\n  directions: ['[000]']\n", "neb.directions: '[000]' is not a direction"),
        (
            GOOD + "analysis:\n  fit_window_ps: [0.1, 99999]\n",
            "mlmd and analysis: fit window 0.1–99999 ps needs ≥ 3 frames inside one of 5 "
            "blocks of 1089 ps (5451 frames)",
        ),
        (
            GOOD + "mlmd:\n  n_steps: 60000\n  dump_mobile_every: 1000\n",
            "mlmd and analysis: 11 frames make 5 blocks of 2 frame(s); each needs at least 4",
        ),
        (
            GOOD + "mlmd:\n  n_steps: 10\n",
            "mlmd.equilibration_steps 50000 ≥ n_steps 10: no steps left to analyse",
        ),
        (
            GOOD + "mlmd:\n  run_length: {}\n",
            "mlmd.run_length needs analysis.fit_window_ps [start, end] in ps",
        ),
        (
            GOOD + "mlmd:\n  run_length: {rel_stderr_D_self: .nan}\nanalysis:\n"
            "  fit_window_ps: [10, 100]\n",
            "mlmd.run_length.rel_stderr_D_self: Input should be a finite number",
        ),
        (
            GOOD + "mlmd:\n  run_length: {}\nanalysis:\n  fit_window_ps: [10, 2000]\n",
            "blocks of 1089 ps (5451 frames): the run is too short (production frames = "
            "(n_steps − equilibration_steps) / dump_mobile_every + 1; n_steps: the maximum "
            "length of mlmd.run_length)",
        ),
        (
            GOOD.replace(
                "  structure: li3ticl6",
                "  structure: li3ticl6\n  supercell:\n    n_atoms: 10000000",
            ),
            "material.supercell.n_atoms: n_atoms 10000000: at most 2560 atoms",
        ),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_spec_is_one_line_and_queues_nothing(
    litcl_home: Path, litcl, tmp_path: Path, text: str, expected: str, workflow_names
) -> None:
    assert litcl("init").returncode == 0
    spec = tmp_path / "study.yaml"
    spec.write_text(text)
    result = litcl("submit", str(spec))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(spec) in lines[0]
    assert expected in lines[0]
    if "missing/" in text:
        assert str(tmp_path / "missing" / "Li3TiCl6.cif") in lines[0]
    assert workflow_names(litcl_home / "launchpad.json") == []


def test_reference_engine_not_installed_is_one_line(
    litcl_home: Path, litcl, process_env, tmp_path: Path, workflow_names
) -> None:
    """chgnet made unfindable in the child process: submit refuses with one line."""
    import subprocess
    import sys

    assert litcl("init").returncode == 0
    spec = tmp_path / "study.yaml"
    spec.write_text(GOOD)
    patched = (
        "import sys, litcl_flows.makers.reference as reference; "
        "reference.CHGNET.package = 'chgnet_is_not_here'; "
        "from litcl_flows.cli.main import cli; cli(['submit', sys.argv[1]])"
    )
    result = subprocess.run(
        [sys.executable, "-c", patched, str(spec)],
        env=process_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "Error: this study's jobs run here (embedded mode) and need: reference engine 'chgnet' "
        "needs the 'chgnet_is_not_here' package; install them with pip install "
    )
    assert workflow_names(litcl_home / "launchpad.json") == []


def test_vasp_spec_without_vasp_here_is_one_line(
    litcl_home: Path, litcl, process_env, tmp_path: Path, workflow_names
) -> None:
    """Issue 20, item 4: embedded workers run here, so a VASP study needs VASP and POTCARs."""
    import sys

    env = process_env(
        PATH=str(Path(sys.executable).parent),  # python, but no vasp_std
        PMG_VASP_PSP_DIR=str(tmp_path / "no_potcars"),
        ATOMATE2_VASP_CMD="vasp_std",
    )
    line = _refused_submit(litcl, tmp_path, GOOD + "reference_engine: vasp\n", env)
    assert line.startswith(
        "Error: reference_engine vasp cannot run on this machine: VASP command 'vasp_std' "
        "(vasp_std not on PATH; set ATOMATE2_VASP_CMD); POTCAR Cl (PBE_54): "
    )
    assert str(tmp_path / "no_potcars") in line  # pymatgen's own reason: no such folder
    assert workflow_names(litcl_home / "launchpad.json") == []


def test_vasp_check_passes_with_a_vasp_command_and_potcars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import atomate2
    from pymatgen.io.vasp.inputs import PotcarSingle

    from litcl_flows.engines.vasp.validation import check_vasp_runs_here

    launcher = tmp_path / "bin" / "srun"
    launcher.parent.mkdir()
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    (tmp_path / "bin" / "vasp_std").symlink_to(launcher)
    monkeypatch.setenv("PATH", str(launcher.parent))
    monkeypatch.setattr(atomate2.SETTINGS, "VASP_CMD", "srun -n 4 vasp_std")
    asked = []
    monkeypatch.setattr(
        PotcarSingle,
        "from_symbol_and_functional",
        lambda symbol, functional: asked.append((symbol, functional)),
    )
    check_vasp_runs_here(["Li", "Ti", "Cl"])
    # atomate2's PAW sets for the study (Li_sv, Ti_sv, Cl) in its PBE_54.
    assert sorted(asked) == [("Cl", "PBE_54"), ("Li_sv", "PBE_54"), ("Ti_sv", "PBE_54")]
    monkeypatch.setattr(atomate2.SETTINGS, "VASP_CMD", "mpirun -np 4 vasp_std")
    with pytest.raises(ValueError, match=r"'mpirun -np 4 vasp_std' \(mpirun not on PATH"):
        check_vasp_runs_here(["Li"])


def test_missing_dp_and_lmp_are_named_before_anything_is_queued(
    litcl_home: Path, litcl, process_env, tmp_path: Path, workflow_names
) -> None:
    env = process_env(LITCL_DP_CMD="no-such-dp", LITCL_LMP_CMD="srun no-such-lmp")
    line = _refused_submit(litcl, tmp_path, GOOD, env)
    assert line.startswith(
        "Error: this study's jobs run here (embedded mode) and need: dp_cmd 'no-such-dp' "
        "(no-such-dp not on PATH); lmp_cmd 'srun no-such-lmp' (srun, no-such-lmp not on PATH)"
    )
    assert workflow_names(litcl_home / "launchpad.json") == []


def test_mongodb_mode_leaves_the_engines_to_the_workers(litcl_home: Path) -> None:
    from litcl_flows.flows.preflight import check_runs_here
    from litcl_flows.flows.spec import StudySpec
    from litcl_flows.settings import load_settings

    spec = StudySpec.model_validate(
        {"name": "x", "material": {"structure": "li3ticl6"}, "reference_engine": "vasp"}
    )
    check_runs_here(spec, load_settings(mode="mongodb", dp_cmd="no-such-dp"))  # no error


def test_u_set_of_an_element_not_in_another_conductor_is_one_line(tmp_path: Path) -> None:
    """The default U sets are Li3TiCl6's (Ti): a Ti-free conductor must give its own."""
    from pymatgen.core import Lattice, Structure

    from litcl_flows.flows.spec import SpecError, load_spec

    rock_salt = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    rock_salt.to(filename=str(tmp_path / "LiCl.cif"))
    spec = tmp_path / "licl.yaml"
    spec.write_text("name: licl\nmaterial:\n  structure: LiCl.cif\n")
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    assert str(error.value) == (
        f"{spec}: hubbard_u_eV.0: Ti not in the structure (it holds Cl, Li); the default U "
        "sets are the Li3TiCl6 paper's, give this material's"
    )
    # U = 0 for an absent element too: a copy from another material, or a typo.
    spec.write_text(spec.read_text() + "hubbard_u_eV: [{Cl: 0.0}, {Fe: 0.0}]\n")
    with pytest.raises(SpecError, match=r"hubbard_u_eV\.1: Fe not in the structure"):
        load_spec(spec)
    spec.write_text(spec.read_text().replace("{Fe: 0.0}", "{}"))
    assert load_spec(spec).hubbard_u_eV == [{"Cl": 0.0}, {}]
