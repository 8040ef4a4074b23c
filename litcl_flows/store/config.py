"""Config files for FireWorks and jobflow, written into ``$LITCL_HOME`` by ``litcl init``.

The files are the standard ones (``FW_config.yaml``, ``my_launchpad.yaml``,
``my_fworker.yaml``, ``jobflow.yaml``), so FireWorks' and jobflow's own commands and loaders
use the same launchpad and JobStore as ``litcl`` once ``FW_CONFIG_FILE`` and
``JOBFLOW_CONFIG_FILE`` point at them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litcl_flows.settings import LitclSettings

#: Settings never written to ``litcl.yaml`` (the home locates the file; secrets stay out).
_NOT_PERSISTED = {"home", "mongo_password"}


def job_store_spec(settings: LitclSettings) -> dict[str, Any]:
    """The jobflow ``JOB_STORE`` dict spec: docs store plus the ``data`` additional store.

    Embedded: maggma ``MontyStore`` (sqlite) in ``$LITCL_HOME/store``. MongoDB: ``MongoStore``
    for documents and a compressed ``GridFSStore`` for large data (trajectories, models).
    """
    if settings.mode == "embedded":
        common: dict[str, Any] = {
            "type": "MontyStore",
            "database_path": str(settings.store_dir),
            "database_name": "litcl",
            "storage": "sqlite",
        }
        docs = {**common, "collection_name": settings.outputs_collection}
        data = {**common, "collection_name": settings.data_collection}
    else:
        common = {
            "database": settings.mongo_database,
            "host": settings.mongo_host,
            "port": settings.mongo_port,
            **_credentials(settings, user_key="username", source_key="auth_source"),
        }
        docs = {"type": "MongoStore", **common, "collection_name": settings.outputs_collection}
        data = {
            "type": "GridFSStore",
            **common,
            "collection_name": settings.data_collection,
            "compression": True,
        }
    return {"docs_store": docs, "additional_stores": {"data": data}}


def _credentials(settings: LitclSettings, user_key: str, source_key: str) -> dict[str, Any]:
    if not settings.mongo_username:
        return {}
    creds: dict[str, Any] = {
        user_key: settings.mongo_username,
        source_key: settings.mongo_authsource,
    }
    if settings.mongo_password is not None:
        creds["password"] = settings.mongo_password.get_secret_value()
    return creds


def launchpad_spec(settings: LitclSettings) -> dict[str, Any]:
    """Contents of ``my_launchpad.yaml`` (FireWorks ``LaunchPad.from_file``)."""
    spec: dict[str, Any] = {
        "host": settings.mongo_host if settings.mode == "mongodb" else "localhost",
        "port": settings.mongo_port,
        "name": settings.mongo_database,
        "strm_lvl": "WARNING",
    }
    if settings.mode == "mongodb":
        spec.update(_credentials(settings, user_key="username", source_key="authsource"))
    return spec


def fw_config_spec(settings: LitclSettings) -> dict[str, Any]:
    """Contents of ``FW_config.yaml``: where the launchpad and worker files are."""
    spec: dict[str, Any] = {
        "LAUNCHPAD_LOC": str(settings.launchpad_file),
        "FWORKER_LOC": str(settings.fworker_file),
    }
    if settings.mode == "embedded":
        spec["MONGOMOCK_SERVERSTORE_FILE"] = str(settings.launchpad_db_file)
    return spec


def fworker_spec(settings: LitclSettings) -> dict[str, Any]:
    """Contents of ``my_fworker.yaml`` (``FWorker.from_file`` needs every key present)."""
    return {"name": settings.fworker_name, "category": settings.fworker_category, "query": "{}"}


def job_store(settings: LitclSettings):  # -> jobflow.JobStore (imported lazily)
    """The connected-on-demand jobflow ``JobStore`` for these settings."""
    from jobflow import JobStore

    if settings.mode == "embedded":
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    return JobStore.from_dict_spec(job_store_spec(settings))


@dataclass
class InitReport:
    """What ``litcl init`` did."""

    home: Path
    written: list[Path] = field(default_factory=list)
    launchpad_created: bool = False


def _write_yaml(path: Path, content: dict[str, Any], secret: bool = False) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    if secret:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_config_files(settings: LitclSettings) -> InitReport:
    """Create ``$LITCL_HOME`` and (re)write its config files; idempotent.

    In embedded mode also create and reset the launchpad database if it does not exist
    yet (an existing one, with its workflows, is left as it is).
    """
    from litcl_flows.store.embedded import initialise_db_file, open_embedded_launchpad, save

    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    report = InitReport(home=home)
    persisted = settings.model_dump(mode="json", exclude=_NOT_PERSISTED)
    has_secret = settings.mode == "mongodb" and settings.mongo_password is not None
    files: list[tuple[Path, dict[str, Any], bool]] = [
        (settings.settings_file, persisted, False),
        (settings.fw_config_file, fw_config_spec(settings), False),
        (settings.launchpad_file, launchpad_spec(settings), has_secret),
        (settings.fworker_file, fworker_spec(settings), False),
        (settings.jobflow_config_file, {"JOB_STORE": job_store_spec(settings)}, has_secret),
    ]
    for path, content, secret in files:
        _write_yaml(path, content, secret)
        report.written.append(path)
    if settings.mode == "embedded":
        settings.store_dir.mkdir(exist_ok=True)
        settings.launches_dir.mkdir(exist_ok=True)
        if initialise_db_file(settings.launchpad_db_file):
            launchpad = open_embedded_launchpad(
                settings.launchpad_file, settings.launchpad_db_file, settings.lock_file
            )
            launchpad.reset("", require_password=False)
            save(launchpad)
            report.launchpad_created = True
    return report


def is_initialised(settings: LitclSettings) -> bool:
    """Whether ``litcl init`` has written this home's config (and launchpad, if embedded)."""
    needed = [settings.fw_config_file, settings.launchpad_file, settings.jobflow_config_file]
    if settings.mode == "embedded":
        needed.append(settings.launchpad_db_file)
    return all(path.exists() for path in needed)
