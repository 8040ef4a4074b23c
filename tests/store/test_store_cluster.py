"""Cluster configs: queue scripts for Slurm and PBS Pro, loadable files, no password on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from litcl_flows.store.cluster import QueueConfigError, check_qadapter

PASSWORD = "pw-cluster-9Xq"
BASE = ["init", "--mode", "mongodb", "--host", "mongo.hpc.example.org", "--username", "litcl_rw"]


@pytest.fixture
def cluster_home(litcl_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LITCL_MONGO_PASSWORD", PASSWORD)
    return litcl_home


def _init(*args: str):
    from click.testing import CliRunner

    from litcl_flows.cli.main import cli

    return CliRunner().invoke(cli, [*BASE, *args, "--json"])


def _script(qadapter_file: Path, tmp_path: Path) -> str:
    # CommonAdapter.from_file, not load_object_from_file: under pytest the latter imports
    # FireWorks' own test modules while searching its registry (done in a subprocess below).
    from fireworks.user_objects.queue_adapters.common_adapter import CommonAdapter

    adapter = CommonAdapter.from_file(str(qadapter_file))
    script = adapter.get_script_str(str(tmp_path))
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    return script


def test_slurm_scripts_have_the_requested_directives(cluster_home: Path, tmp_path: Path) -> None:
    result = _init(
        "--cluster",
        "slurm",
        "--account",
        "MYPROJ",
        "--queue",
        "bdwall",
        "--walltime",
        "1-12:00:00",
        "--nodes",
        "2",
        "--cpus-per-node",
        "36",
        "--gpus-per-node",
        "4",
    )
    assert result.exit_code == 0, result.output
    cpu = _script(cluster_home / "my_qadapter.yaml", tmp_path).splitlines()
    gpu = _script(cluster_home / "my_qadapter_gpu.yaml", tmp_path).splitlines()
    for script in (cpu, gpu):
        assert "#SBATCH --time=1-12:00:00" in script
        assert "#SBATCH --account=MYPROJ" in script
        assert "#SBATCH --partition=bdwall" in script
        assert "#SBATCH --nodes=2" in script
        assert "#SBATCH --ntasks-per-node=36" in script
        assert f"export JOBFLOW_CONFIG_FILE={cluster_home / 'jobflow.yaml'}" in script
    assert "#SBATCH --gpus-per-node=4" in gpu
    assert not any(line.startswith("#SBATCH --gpus") for line in cpu)
    assert f"litcl rlaunch -w {cluster_home / 'my_fworker_gpu.yaml'} singleshot" in gpu


def test_pbspro_scripts_use_select_with_gpus(cluster_home: Path, tmp_path: Path) -> None:
    result = _init(
        "--cluster",
        "pbspro",
        "--account",
        "MYPROJ",
        "--queue",
        "prod",
        "--walltime",
        "06:00:00",
        "--nodes",
        "2",
        "--cpus-per-node",
        "32",
        "--gpus-per-node",
        "4",
        "--filesystems",
        "home:eagle",
    )
    assert result.exit_code == 0, result.output
    cpu = _script(cluster_home / "my_qadapter.yaml", tmp_path).splitlines()
    gpu = _script(cluster_home / "my_qadapter_gpu.yaml", tmp_path).splitlines()
    assert "#PBS -l select=2:ncpus=32:mpiprocs=32:ngpus=4" in gpu
    assert "#PBS -l select=2:ncpus=32:mpiprocs=32" in cpu
    for script in (cpu, gpu):
        assert "#PBS -l walltime=06:00:00" in script
        assert "#PBS -A MYPROJ" in script
        assert "#PBS -q prod" in script
        assert "#PBS -l filesystems=home:eagle" in script
        assert not any("nodes=" in line and "ppn=" in line for line in script)  # not Torque


def test_every_file_loads_with_fireworks_and_jobflow(cluster_home: Path, process_env) -> None:
    assert _init("--cluster", "slurm", "--gpus-per-node", "1").exit_code == 0
    probe = f"""
from fireworks import FWorker, LaunchPad
from fireworks.utilities.fw_serializers import load_object_from_file
from jobflow import SETTINGS
home = {str(cluster_home)!r}
lp = LaunchPad.from_file(home + "/my_launchpad.yaml")
workers = [FWorker.from_file(home + f) for f in ("/my_fworker.yaml", "/my_fworker_gpu.yaml")]
adapters = [load_object_from_file(home + f) for f in ("/my_qadapter.yaml", "/my_qadapter_gpu.yaml")]
store = SETTINGS.JOB_STORE
print(lp.host, [w.category for w in workers], [a.q_type for a in adapters],
      type(store.docs_store).__name__, type(store.additional_stores["data"]).__name__)
"""
    env = process_env(
        FW_CONFIG_FILE=str(cluster_home / "FW_config.yaml"),
        JOBFLOW_CONFIG_FILE=str(cluster_home / "jobflow.yaml"),
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=1)[0] == "mongo.hpc.example.org"
    assert "['cpu', 'gpu'] ['SLURM', 'SLURM'] MongoStore GridFSStore" in result.stdout


def test_password_only_in_the_two_private_files(cluster_home: Path, smoke_spec: Path) -> None:
    assert _init("--cluster", "pbspro", "--gpus-per-node", "2").exit_code == 0
    for path in cluster_home.rglob("*"):
        if path.is_file() and path.name not in ("my_launchpad.yaml", "jobflow.yaml"):
            assert PASSWORD not in path.read_text(errors="replace"), path
    for name in ("my_launchpad.yaml", "jobflow.yaml"):
        assert PASSWORD in (cluster_home / name).read_text()
        assert (cluster_home / name).stat().st_mode & 0o077 == 0
    from litcl_flows.flows.spec import load_spec
    from litcl_flows.flows.study import build_study_workflow

    workflow = build_study_workflow(load_spec(smoke_spec))
    assert PASSWORD not in json.dumps(workflow.to_dict(), default=str)
    # No -V: the submitting environment, secrets included, stays out of PBS job records.
    assert "#PBS -V" not in (cluster_home / "my_qadapter.yaml").read_text()
    template = yaml.safe_load((cluster_home / "my_qadapter.yaml").read_text())
    assert "#PBS -V" not in Path(template["_fw_template_file"]).read_text()

    assert _init("--no-store-password").exit_code == 0
    for path in cluster_home.rglob("*"):
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"_fw_q_type": "LSF"}, "unknown queue type 'LSF'"),
        ({"_fw_q_type": "SLURM", "walltime": "90 minutes"}, "walltime '90 minutes'"),
        ({"_fw_q_type": "PBS", "walltime": "1-00:00:00"}, "not of the form HH:MM:SS"),
        # FireWorks' stock PBS template is Torque-style, with no line for GPUs.
        ({"_fw_q_type": "PBS", "select": "1:ncpus=8:ngpus=2"}, "GPU request (select)"),
    ],
)
def test_bad_qadapter_is_one_line(spec: dict, message: str) -> None:
    with pytest.raises(QueueConfigError, match=r"^[^\n]*$") as error:
        check_qadapter(spec)
    assert message in str(error.value)


def test_gpu_request_on_cpu_only_template_fails_at_init(cluster_home: Path, tmp_path) -> None:
    template = tmp_path / "cpu_only.txt"
    template.write_text("#!/bin/bash\n#SBATCH --time=$${walltime}\n$${rocket_launch}\n")
    result = _init("--cluster", "slurm", "--gpus-per-node", "4", "--template-file", str(template))
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert "GPU request (gpus_per_node)" in line and "cpu_only.txt" in line


def test_queue_workers_need_mongodb(litcl_home: Path) -> None:
    from click.testing import CliRunner

    from litcl_flows.cli.main import cli

    result = CliRunner().invoke(cli, ["init", "--cluster", "slurm"])
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert "need mode 'mongodb'" in line


def test_qadapter_yaml_keeps_shell_lines_readable(cluster_home: Path) -> None:
    assert _init("--cluster", "slurm").exit_code == 0
    text = (cluster_home / "my_qadapter.yaml").read_text()
    assert "pre_rocket: |" in text
    assert yaml.safe_load(text)["pre_rocket"].splitlines()[-1].startswith("export ATOMATE2_CONFIG")
