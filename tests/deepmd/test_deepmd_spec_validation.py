"""Issue 16, item 4: bad DeePMD settings, seeds and counts fail ``litcl submit`` in one line.

Types are DeePMD-kit's own checker (``deepmd.utils.argcheck.normalize``) on the
``input.json`` litcl writes; ranges, which it leaves to the run, are litcl's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import bson.json_util
import pytest
from click.testing import CliRunner

from litcl_flows.cli.main import cli
from litcl_flows.engines.deepmd.inputs import DeepmdSettingError, DeepmdTrainingInput

REPO = Path(__file__).resolve().parents[2]
GOOD = """\
name: bad-spec-test
material:
  structure: li3ticl6
relax:
  fmax_eV_A: 0.1
"""


def _overrides(text: str) -> str:
    return GOOD + f"deepmd:\n  overrides: {{{text}}}\n"


BAD_SPECS = [
    # strings and negatives the issue lists
    (
        _overrides('rcut_A: "7"'),
        "deepmd.overrides: rcut_A = '7': DeePMD-kit's input check wants <float> at "
        "model/descriptor/rcut (a number in quotes is text: drop the quotes)",
    ),
    (_overrides("rcut_A: -1.0"), "deepmd.overrides: rcut_A = -1.0: must be positive"),
    (
        _overrides("numb_steps: 1e4"),
        "deepmd.overrides: numb_steps = '1e4': DeePMD-kit's input check wants <int> at "
        "training/numb_steps (YAML reads 1e4 as text: write 10000)",
    ),
    (
        _overrides("numb_steps: -100"),
        "deepmd.overrides: numb_steps = -100: must be a positive integer",
    ),
    (_overrides("decay_steps: many"), "deepmd.overrides: decay_steps = 'many': must be an integer"),
    (
        _overrides("decay_steps: -5"),
        "deepmd.overrides: decay_steps = -5: must be a positive integer",
    ),
    (
        _overrides('disp_freq: "100"'),
        "deepmd.overrides: disp_freq = '100': DeePMD-kit's input check wants <int> at "
        "training/disp_freq (a number in quotes is text: drop the quotes)",
    ),
    (_overrides("disp_freq: 0"), "deepmd.overrides: disp_freq = 0: must be a positive integer"),
    (
        _overrides("save_freq: 1.5"),
        "deepmd.overrides: save_freq = 1.5: DeePMD-kit's input check wants <int> at "
        "training/save_freq",
    ),
    (
        _overrides("save_freq: -1000"),
        "deepmd.overrides: save_freq = -1000: must be a positive integer",
    ),
    (
        _overrides("embedding_neurons: [-32, 64]"),
        "deepmd.overrides: embedding_neurons = [-32, 64]: widths must be positive integers",
    ),
    (
        _overrides("fitting_neurons: [256, 0]"),
        "deepmd.overrides: fitting_neurons = [256, 0]: widths must be positive integers",
    ),
    (
        _overrides("fitting_neurons: 256"),
        "deepmd.overrides: fitting_neurons = 256: must be a list of layer widths",
    ),
    (
        _overrides('embedding_neurons: ["32", 64]'),
        "deepmd.overrides: embedding_neurons = ['32', 64]: DeePMD-kit's input check wants "
        "<list[int]> at model/descriptor/neuron",
    ),
    # seeds
    (_overrides("seed: -1"), "deepmd.overrides: seed = -1: must be in 0 … 2**32 − 1"),
    (
        _overrides("seed: 4294967296"),
        "deepmd.overrides: seed = 4294967296: must be in 0 … 2**32 − 1",
    ),
    (_overrides("seed: true"), "deepmd.overrides: seed = True: a boolean, not a number"),
    (GOOD + "mlmd:\n  seed: -1\n", "mlmd.seed: Input should be greater than or equal to 1"),
    (GOOD + "mlmd:\n  seed: 0\n", "mlmd.seed: Input should be greater than or equal to 1"),
    (
        GOOD + "mlmd:\n  seed: 2147483648\n",
        "mlmd.seed: Input should be less than or equal to 2147483647",
    ),
    (
        GOOD + "mlmd:\n  cell_seed: -3\n",
        "mlmd.cell_seed: Input should be greater than or equal to 0",
    ),
    (
        GOOD.replace("li3ticl6", "li3ticl6\n  supercell:\n    seed: -1"),
        "material.supercell.seed: Input should be greater than or equal to 0",
    ),
    (
        GOOD.replace("li3ticl6", "li3ticl6\n  supercell:\n    seed: 4294967296"),
        "material.supercell.seed: Input should be less than or equal to 4294967295",
    ),
    # other settings dp train would refuse or misuse only at the run
    (
        _overrides("start_lr: 1e-3"),
        "deepmd.overrides: start_lr = '1e-3': DeePMD-kit's input check wants <float> at "
        "learning_rate/start_lr (YAML reads 1e-3 as text: write 1.0e-03)",
    ),
    (
        _overrides("stop_lr: 1.0e-2"),
        "deepmd.overrides: stop_lr = 0.01: must be below start_lr (0.001) (profile paper)",
    ),
    (
        GOOD + "deepmd:\n  preset: demo\n  overrides: {rcut_smth_A: 6.0}\n",
        "deepmd.overrides: rcut_smth_A = 6.0: must be below rcut_A (5.0) (preset demo)",
    ),
    (
        _overrides("sel: [40, -1, 20]"),
        "deepmd.overrides: sel = [40, -1, 20]: neighbour counts must be positive integers",
    ),
    (
        _overrides("sel: [40, 20]"),
        "deepmd.overrides: sel = [40, 20]: needs one number per species (3: Li, Ti, Cl, in "
        "that order)",
    ),
    (
        _overrides("axis_neuron: 200"),
        "deepmd.overrides: axis_neuron = 200: must be at most the last embedding width (128, "
        "embedding_neurons [32, 64, 128]) (profile paper)",
    ),
    (
        _overrides("activation: relu9"),
        "deepmd.overrides: activation = 'relu9': not one of gelu, gelu_tf, linear, none, relu, "
        "relu6, sigmoid, silu, silut, softplus, tanh",
    ),
    (
        _overrides("batch_size: big"),
        "deepmd.overrides: batch_size = 'big': must be a positive integer, 'auto', 'auto:N', "
        "'max:N' or 'filter:N'",
    ),
    (
        _overrides("start_pref_f: -1.0"),
        "deepmd.overrides: start_pref_f = -1.0: must be ≥ 0",
    ),
    (_overrides("rcut_A: .inf"), "deepmd.overrides: rcut_A = inf: must be a finite number"),
    (GOOD + "mlmd:\n  time_step_fs: .nan\n", "mlmd.time_step_fs: Input should be a finite number"),
    (
        GOOD + "mlmd:\n  timestep_fs: 1\n",
        "mlmd: timestep_fs is now time_step_fs (as in the aimd section)",
    ),
    (
        GOOD + "analysis:\n  stacking_hkl: [0, 0, 0]\n",
        "analysis.stacking_hkl: (0, 0, 0) is not a lattice plane",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SPECS)
def test_bad_value_fails_submit_in_one_line(
    litcl_home: Path, tmp_path: Path, text: str, expected: str
) -> None:
    spec = tmp_path / "study.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(cli, ["submit", str(spec)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines() == [f"Error: {spec}: {expected}"]
    assert not litcl_home.exists()  # refused before the launchpad is opened


def test_bad_override_queues_nothing(litcl_home: Path, tmp_path: Path) -> None:
    """As a user runs it: ``litcl init``, then a refused ``litcl submit`` in a new process."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MONGOMOCK_") and k not in ("FW_CONFIG_FILE", "JOBFLOW_CONFIG_FILE")
    }

    def litcl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "litcl_flows", *args],
            env={**env, "OMP_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )

    assert litcl("init").returncode == 0
    spec = tmp_path / "study.yaml"
    spec.write_text(_overrides("numb_steps: -100"))
    result = litcl("submit", str(spec))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {spec}: deepmd.overrides: numb_steps = -100: must be a positive integer"
    ]
    database = bson.json_util.loads((litcl_home / "launchpad.json").read_text())
    assert [doc for _, doc in database["litcl"]["workflows"]["documents"]] == []


def test_good_edge_values_pass(litcl_home: Path, tmp_path: Path) -> None:
    from litcl_flows.flows.spec import load_spec

    spec = tmp_path / "study.yaml"
    spec.write_text(
        GOOD.replace("li3ticl6", "li3ticl6\n  supercell:\n    seed: 4294967295")
        + "deepmd:\n  overrides: {sel: [40, 20, 60], batch_size: 'auto:64', seed: 0,"
        " numb_steps: 200, decay_steps: 10, rcut_smth_A: 0.0, activation: TANH}\n"
        + "mlmd:\n  seed: 2147483647\n  cell_seed: 0\n"
    )
    loaded = load_spec(spec)
    assert loaded.deepmd.training_input(loaded.profile).sel == [40, 20, 60]
    assert (loaded.mlmd.seed, loaded.material.supercell.seed) == (2**31 - 1, 2**32 - 1)


@pytest.mark.parametrize("preset", ["paper", "demo"])
def test_presets_pass_deepmd_kits_check(preset: str) -> None:
    training_input = DeepmdTrainingInput() if preset == "paper" else DeepmdTrainingInput.demo()
    training_input.check(["Li", "Ti", "Cl"])


def test_check_names_the_fields_involved() -> None:
    with pytest.raises(DeepmdSettingError) as excinfo:
        DeepmdTrainingInput.demo(rcut_smth_A=6.0).check()
    assert excinfo.value.fields == ("rcut_smth_A", "rcut_A")
    with pytest.raises(DeepmdSettingError, match="one number per species"):
        DeepmdTrainingInput(sel=[40, 20, 60]).check(["Li", "Cl"])
    DeepmdTrainingInput(sel=[40, 20, 60]).check()  # no type map: only the counts' signs
