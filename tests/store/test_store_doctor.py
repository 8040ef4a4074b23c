"""`litcl doctor` checks each piece of the state on its own and says what to fix (issue 16,
item 3): a healthy embedded home, a MongoDB-mode home on a mongomock server (missing indexes,
then created), a closed port, a missing password, a stray FW_config.yaml."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from litcl_flows.cli.main import cli
from litcl_flows.settings import load_settings
from litcl_flows.store.config import job_store, write_config_files
from litcl_flows.store.doctor import run_checks
from litcl_flows.store.indexes import DOCS_INDEXES, ensure_indexes


def _doctor() -> tuple[int, dict[str, tuple[bool, str]]]:
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    rows = json.loads(result.stdout)
    return result.exit_code, {row["check"]: (row["ok"], row["detail"]) for row in rows}


def test_a_fresh_embedded_home_is_healthy(litcl_home: Path) -> None:
    write_config_files(load_settings())
    code, checks = _doctor()
    assert code == 0, checks
    assert checks["launchpad"] == (True, "0 workflow(s), 0 READY job(s)")
    assert checks["indexes"] == (True, "none (montydb has no indexes)")


@pytest.fixture
def mongomock_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """One mongomock server behind FireWorks' and maggma's MongoClient."""
    import fireworks.core.launchpad
    import maggma.stores.gridfs
    import maggma.stores.mongolike
    import mongomock_ng
    from mongomock_ng.gridfs import enable_gridfs_integration
    from mongomock_ng.store import ServerStore

    class Client(mongomock_ng.MongoClient):
        def close(self) -> None:
            """Keep the data, as a server does."""

    enable_gridfs_integration()
    server = ServerStore()

    def client(*args: Any, **kwargs: Any) -> mongomock_ng.MongoClient:
        return Client(_store=server)

    for module in (maggma.stores.mongolike, maggma.stores.gridfs, fireworks.core.launchpad):
        monkeypatch.setattr(module, "MongoClient", client)


def test_missing_indexes_are_named_then_found(litcl_home: Path, mongomock_server: None) -> None:
    settings = load_settings(mode="mongodb")
    write_config_files(settings)
    checks = {check.name: check for check in run_checks(settings)}
    assert [name for name, check in checks.items() if not check.ok] == ["indexes"]
    assert checks["indexes"].detail.startswith(f"missing {', '.join(DOCS_INDEXES)}: ")
    ensure_indexes(job_store(settings))
    assert all(check.ok for check in run_checks(settings))


def test_a_closed_port_is_one_failure_not_four_timeouts(litcl_home: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(mode="mongodb", mongo_port=port, mongo_timeout_s=0.5)
    write_config_files(settings)
    checks = run_checks(settings)
    failed = {check.name: check.detail for check in checks if not check.ok}
    assert failed["launchpad"].startswith(
        f"MongoDB localhost:{port}, database litcl: no server answered within 0.5 s"
    )
    for name in ("JobStore", "data store", "indexes"):
        assert failed[name] == "not tried: no server answered (see launchpad)"


def test_missing_password_and_stray_fw_config(
    litcl_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(mode="mongodb", mongo_username="litcl_rw", store_password=False)
    write_config_files(settings)
    (tmp_path / "FW_config.yaml").write_text("{}\n")
    monkeypatch.chdir(tmp_path)
    checks = {check.name: check for check in run_checks(settings)}
    assert checks["credentials"].detail == (
        "no password for user 'litcl_rw': `litcl init` stores it (0600), or export "
        "LITCL_MONGO_PASSWORD"
    )
    assert checks["FireWorks config"].detail == (
        f"FireWorks reads {tmp_path / 'FW_config.yaml'} before "
        f"{litcl_home / 'FW_config.yaml'}: rename it"
    )
