"""MongoDB credentials reach every entry point from one place, and no scheduler sees them
(issue 16, items 1-3): litcl commands, the bare FireWorks commands, queue jobs and notebooks
all read the 0600 ``my_launchpad.yaml`` / ``jobflow.yaml`` that ``litcl init`` writes; a
closed port or a wrong password ends in one line; a stray FW_config.yaml is pointed out."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from litcl_flows.store.config import mongo_error_line

PASSWORD = "pw-7Hq2-entry-points"
USER = "litcl_rw"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _init(env: dict[str, str], *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "litcl_flows", "init", "--mode", "mongodb", *options]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def _python(code: str, env: dict[str, str], cwd: Path) -> dict:
    """Run ``code`` in a fresh interpreter (its own FireWorks/jobflow config) → its JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def initialised(litcl_home: Path, process_env: Callable) -> Path:
    """``litcl init`` for a Slurm cluster, the password given once in the environment."""
    result = _init(
        process_env(LITCL_MONGO_PASSWORD=PASSWORD),
        *("--host", "localhost", "--port", str(_closed_port()), "--username", USER),
        *("--cluster", "slurm", "--account", "A", "--queue", "q"),
    )
    assert result.returncode == 0, result.stderr
    assert "unset LITCL_MONGO_PASSWORD" in result.stdout
    return litcl_home


def test_every_entry_point_reads_the_one_stored_password(
    initialised: Path, process_env: Callable, tmp_path: Path
) -> None:
    home = initialised
    for path in home.iterdir():
        if PASSWORD in path.read_text():
            assert path.name in {"my_launchpad.yaml", "jobflow.yaml"}
            assert path.stat().st_mode & 0o777 == 0o600
    # None of these has LITCL_MONGO_PASSWORD: a cron job, a notebook, a new login shell.
    bare = process_env(
        FW_CONFIG_FILE=str(home / "FW_config.yaml"),
        JOBFLOW_CONFIG_FILE=str(home / "jobflow.yaml"),
    )
    fireworks = _python(
        "import json; from fireworks import LaunchPad; lp = LaunchPad.auto_load(); "
        "print(json.dumps([lp.username, lp.password, lp.authsource]))",
        bare,
        tmp_path,
    )
    assert fireworks == [USER, PASSWORD, "admin"]
    notebook = _python(
        "import json, jobflow; store = jobflow.SETTINGS.JOB_STORE; "
        "docs, data = store.docs_store, store.additional_stores['data']; "
        "print(json.dumps([docs.username, docs.password, docs.auth_source, "
        "type(data).__name__, data.password]))",
        bare,
        tmp_path,
    )
    assert notebook == [USER, PASSWORD, "admin", "GridFSStore", PASSWORD]
    litcl = _python(
        "import json; from litcl_flows.settings import load_settings; s = load_settings(); "
        "print(json.dumps([s.mongo_username, s.mongo_password.get_secret_value()]))",
        bare,
        tmp_path,
    )
    assert litcl == [USER, PASSWORD]


def test_queue_jobs_never_carry_the_password(
    initialised: Path, process_env: Callable, tmp_path: Path
) -> None:
    """A fake ``sbatch`` records the environment and script Slurm would store."""
    fake = tmp_path / "bin"
    fake.mkdir()
    sbatch = fake / "sbatch"
    sbatch.write_text(
        f'#!/bin/sh\nenv > {fake}/env.txt\ncat "$1" > {fake}/script.txt\n'
        'echo "Submitted batch job 4242"\n'
    )
    sbatch.chmod(0o755)
    env = process_env(LITCL_MONGO_PASSWORD=PASSWORD)  # exported in the submitting shell
    env["PATH"] = f"{fake}:{env['PATH']}"
    qadapter = str(initialised / "my_qadapter.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", "qlaunch", "-q", qadapter, "-fm", "singleshot"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    script = (fake / "script.txt").read_text()
    assert f"export JOBFLOW_CONFIG_FILE={initialised / 'jobflow.yaml'}" in script
    assert PASSWORD not in script
    assert PASSWORD not in (fake / "env.txt").read_text()
    assert PASSWORD not in result.stdout + result.stderr


def test_without_a_stored_password_qlaunch_is_refused(
    litcl: Callable, litcl_home: Path, process_env: Callable
) -> None:
    result = _init(
        process_env(LITCL_MONGO_PASSWORD=PASSWORD),
        *("--username", USER, "--no-store-password", "--cluster", "slurm"),
    )
    assert result.returncode == 0, result.stderr
    refused = litcl("qlaunch", "-q", str(litcl_home / "my_qadapter.yaml"), "-fm", "singleshot")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: queue jobs read the MongoDB password from my_launchpad.yaml (mode 0600), which "
        "--no-store-password left without it: run `litcl init --store-password`"
    ]


def test_a_closed_port_fails_fast_in_one_line(initialised: Path, litcl: Callable) -> None:
    port = yaml.safe_load((initialised / "litcl.yaml").read_text())["mongo_port"]
    for command in (["status"], ["query"]):
        start = time.monotonic()
        result = litcl(*command)
        elapsed = time.monotonic() - start
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            f"Error: MongoDB localhost:{port}, database litcl: no server answered within 3 s "
            f"(localhost:{port}: [Errno 111] Connection refused); check mongo_host and "
            "mongo_port, that the server runs, and that this machine reaches it (firewall, "
            "VPN, TLS)"
        ]
        # pymongo alone waits 30 s; 3 s server selection plus start-up stays far below.
        assert elapsed < 15, elapsed


def test_auth_and_permission_errors_name_the_setting(litcl_home: Path) -> None:
    from pymongo.errors import OperationFailure

    from litcl_flows.settings import load_settings

    settings = load_settings(mode="mongodb", mongo_username=USER, mongo_password="wrong")
    failed = mongo_error_line(OperationFailure("Authentication failed.", code=18), settings)
    assert failed == (
        "MongoDB localhost:27017, database litcl: authentication failed for user 'litcl_rw' "
        "(authSource admin); check the password (LITCL_MONGO_PASSWORD, or the one `litcl "
        "init` stored in my_launchpad.yaml) and mongo_authsource, the database that holds "
        "the user"
    )
    anonymous = load_settings(mode="mongodb")
    denied = OperationFailure("command find requires authentication", code=13)
    assert mongo_error_line(denied, anonymous).endswith(
        "not authorised (command find requires authentication); the server requires a user: "
        "litcl init --username U"
    )


def test_a_stray_fw_config_is_pointed_out(
    litcl_home: Path, process_env: Callable, tmp_path: Path
) -> None:
    stray = tmp_path / "FW_config.yaml"
    stray.write_text("LAUNCHPAD_LOC: /somewhere/else.yaml\n")
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", "status"],
        env=process_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"Warning: FireWorks reads {stray} before FW_CONFIG_FILE "
        f"({litcl_home / 'FW_config.yaml'}): bare lpad/rlaunch/qlaunch will use that one; "
        "rename it to use litcl's"
    ]
