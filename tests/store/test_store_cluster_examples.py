"""The example configs in launchpad/ are exactly what `litcl init` writes for sample clusters.

Regenerate them after changing the config writers with
``REGENERATE_LAUNCHPAD_EXAMPLES=1 python -m pytest tests/store -k examples``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import litcl_flows
from litcl_flows.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "launchpad"
COMMON = ["--mode", "mongodb", "--host", "mongo.example.org", "--username", "litcl_rw", "--tls"]
CLUSTERS = {
    # A Slurm CPU cluster like Argonne's Bebop.
    "slurm": [
        "--cluster",
        "slurm",
        "--account",
        "MYPROJECT",
        "--queue",
        "bdwall",
        "--walltime",
        "24:00:00",
        "--nodes",
        "1",
        "--cpus-per-node",
        "36",
    ],
    # A PBS Pro GPU cluster like Polaris.
    "pbspro": [
        "--cluster",
        "pbspro",
        "--account",
        "MYPROJECT",
        "--queue",
        "prod",
        "--walltime",
        "06:00:00",
        "--nodes",
        "1",
        "--cpus-per-node",
        "32",
        "--gpus-per-node",
        "4",
        "--filesystems",
        "home:eagle",
    ],
}
#: example file → (cluster, file written by litcl init)
FILES = {
    "FW_config.yaml": ("slurm", "FW_config.yaml"),
    "my_launchpad.yaml": ("slurm", "my_launchpad.yaml"),
    "jobflow.yaml": ("slurm", "jobflow.yaml"),
    "atomate2.yaml": ("slurm", "atomate2.yaml"),
    "my_fworker.yaml": ("pbspro", "my_fworker.yaml"),
    "my_fworker_gpu.yaml": ("pbspro", "my_fworker_gpu.yaml"),
    "my_qadapter_slurm.yaml": ("slurm", "my_qadapter.yaml"),
    "my_qadapter_pbspro.yaml": ("pbspro", "my_qadapter.yaml"),
    "my_qadapter_pbspro_gpu.yaml": ("pbspro", "my_qadapter_gpu.yaml"),
}


def _render(cluster: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITCL_HOME", str(home))
    monkeypatch.setenv("LITCL_VENV", "/path/to/venv")
    monkeypatch.setenv("LITCL_PRE_ROCKET", "module load vasp/6.4.3")
    monkeypatch.setenv("LITCL_VASP_CMD", "srun vasp_std")
    monkeypatch.setenv("LITCL_MONGO_PASSWORD", "YOUR-PASSWORD")  # stored, mode 0600
    result = CliRunner().invoke(cli, ["init", *COMMON, *CLUSTERS[cluster]])
    assert result.exit_code == 0, result.output


def test_launchpad_examples_match_litcl_init(
    litcl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package_data = str(Path(litcl_flows.__file__).parent / "data")
    rendered = {}
    for cluster in CLUSTERS:
        home = tmp_path / cluster
        _render(cluster, home, monkeypatch)
        for example, (source, name) in FILES.items():
            if source == cluster:
                text = (home / name).read_text()
                text = text.replace(str(home), "/home/you/.litcl")
                rendered[example] = text.replace(package_data, "/path/to/litcl_flows/data")
    if os.environ.get("REGENERATE_LAUNCHPAD_EXAMPLES"):
        for example, text in rendered.items():
            (EXAMPLES / example).write_text(text)
    for example, text in rendered.items():
        assert (EXAMPLES / example).read_text() == text, f"launchpad/{example} is stale"


def test_pbspro_template_example_is_the_shipped_one() -> None:
    shipped = Path(litcl_flows.__file__).parent / "data" / "pbspro_template.txt"
    assert (EXAMPLES / "pbspro_template.txt").read_text() == shipped.read_text()
