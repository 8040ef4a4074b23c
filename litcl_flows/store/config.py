"""Config files for FireWorks and jobflow, written into ``$LITCL_HOME`` by ``litcl init``.

The files are the standard ones (``FW_config.yaml``, ``my_launchpad.yaml``,
``my_fworker.yaml``, ``jobflow.yaml``), so FireWorks' and jobflow's own commands and loaders
use the same launchpad and JobStore as ``litcl`` once ``FW_CONFIG_FILE`` and
``JOBFLOW_CONFIG_FILE`` point at them.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from litcl_flows.settings import LitclSettings
from litcl_flows.store.embedded import (
    check_db_file,
    ensure_writable,
    initialise_db_file,
    open_embedded_launchpad,
    save,
)

#: Settings never written to ``litcl.yaml`` (the home locates the file; secrets stay out).
_NOT_PERSISTED = {"home", "mongo_password"}


def job_store_spec(settings: LitclSettings, with_password: bool = True) -> dict[str, Any]:
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
            **_credentials(settings, "username", "auth_source", with_password),
        }
        common["mongoclient_kwargs"] = _client_options(settings)
        docs = {"type": "MongoStore", **common, "collection_name": settings.outputs_collection}
        data = {
            "type": "GridFSStore",
            **common,
            "collection_name": settings.data_collection,
            "compression": True,
        }
    return {"docs_store": docs, "additional_stores": {"data": data}}


def _credentials(
    settings: LitclSettings, user_key: str, source_key: str, with_password: bool
) -> dict[str, Any]:
    """User, auth source and password, or nothing when the password is withheld.

    pymongo refuses a user without a password, so a config file that must not hold the
    password holds no credentials at all; litcl's commands add them from the environment.
    """
    if not settings.mongo_username or not with_password:
        return {}
    if settings.mongo_password is None:
        raise ValueError(
            f"MongoDB user {settings.mongo_username!r} needs a password: "
            "export LITCL_MONGO_PASSWORD"
        )
    return {
        user_key: settings.mongo_username,
        source_key: settings.mongo_authsource,
        "password": settings.mongo_password.get_secret_value(),
    }


def _client_options(settings: LitclSettings) -> dict[str, Any]:
    """pymongo client options (timeout, TLS) shared by the launchpad and the JobStore."""
    # pymongo waits 30 s for a server by default: a wrong host or port then hangs commands.
    options: dict[str, Any] = {"serverSelectionTimeoutMS": int(settings.mongo_timeout_s * 1000)}
    if settings.mongo_tls:
        options["tls"] = True
        if settings.mongo_tls_ca_file:
            options["tlsCAFile"] = settings.mongo_tls_ca_file
    return options


def launchpad_spec(settings: LitclSettings, with_password: bool = True) -> dict[str, Any]:
    """Contents of ``my_launchpad.yaml`` (FireWorks ``LaunchPad.from_file``)."""
    spec: dict[str, Any] = {
        "host": settings.mongo_host if settings.mode == "mongodb" else "localhost",
        "port": settings.mongo_port,
        "name": settings.mongo_database,
        "strm_lvl": "WARNING",
    }
    if settings.mode == "mongodb":
        spec.update(_credentials(settings, "username", "authsource", with_password))
        spec["mongoclient_kwargs"] = _client_options(settings)
    return spec


def fw_config_spec(settings: LitclSettings) -> dict[str, Any]:
    """Contents of ``FW_config.yaml``: where the launchpad, worker and queue files are."""
    spec: dict[str, Any] = {
        "LAUNCHPAD_LOC": str(settings.launchpad_file),
        "FWORKER_LOC": str(settings.fworker_file),
    }
    if settings.cluster != "none":
        spec["QUEUEADAPTER_LOC"] = str(settings.qadapter_file)
    if settings.mode == "embedded":
        spec["MONGOMOCK_SERVERSTORE_FILE"] = str(settings.launchpad_db_file)
    return spec


def fworker_spec(settings: LitclSettings, kind: str = "cpu") -> dict[str, Any]:
    """Contents of ``my_fworker.yaml`` (``kind="cpu"``) or ``my_fworker_gpu.yaml``.

    On a cluster each worker pulls only its category (``cpu``/``gpu``), which the study
    flow sets per step; locally the worker pulls every category unless one is set.
    ``FWorker.from_file`` needs every key present.
    """
    category = settings.fworker_category or (kind if settings.cluster != "none" else "")
    name = settings.fworker_name if kind == "cpu" else f"{settings.fworker_name}_{kind}"
    return {"name": name, "category": category, "query": "{}"}


def qadapter_spec_for(settings: LitclSettings, kind: str = "cpu") -> dict[str, Any]:
    """Contents of ``my_qadapter.yaml`` (CPU worker) or ``my_qadapter_gpu.yaml``."""
    from litcl_flows.store.cluster import QueueResources, pre_rocket_lines, qadapter_spec

    if settings.cluster == "none":
        raise ValueError("no cluster configured: set --cluster slurm or pbspro")
    gpu = kind == "gpu"
    resources = QueueResources(
        cluster=settings.cluster,
        walltime=settings.walltime,
        nodes=settings.nodes,
        cpus_per_node=settings.cpus_per_node,
        gpus_per_node=settings.gpus_per_node if gpu else 0,
        queue=settings.queue,
        account=settings.account,
        filesystems=settings.pbs_filesystems,
        job_name=f"litcl-{kind}",
        template_file=settings.queue_template_file,
    )
    worker = settings.gpu_fworker_file if gpu else settings.fworker_file
    return qadapter_spec(
        resources,
        rocket_launch=f"litcl rlaunch -w {worker} singleshot",
        pre_rocket=pre_rocket_lines(settings.home, settings.pre_rocket, settings.venv),
    )


def atomate2_spec(settings: LitclSettings) -> dict[str, Any]:
    """Contents of ``atomate2.yaml``: how workers launch VASP under custodian."""
    return {"VASP_CMD": settings.vasp_cmd, "VASP_CUSTODIAN_MAX_ERRORS": 5}


#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: The embedded store's database folder (``database_name`` of :func:`job_store_spec`).
_EMBEDDED_DATABASE = "litcl"


def _collection_files(store_dir: Path) -> list[Path]:
    return sorted((store_dir / _EMBEDDED_DATABASE).glob("*.collection"))


def _damaged_store_remedy(path: Path) -> str:
    return (
        f"restore it from your backup of the store, or move it aside for an empty collection "
        f"(the job outputs in it are lost): mv {path} {path}.damaged"
    )


def check_embedded_store(store_dir: Path) -> None:
    """Refuse an embedded JobStore that montydb cannot use, before it is opened.

    montydb rewrites its config files on every connection and sqlite in WAL mode writes
    beside the database even to read, so the folder must be writable for ``litcl query``
    too. Each collection file must start as an SQLite database does (a cheap check: damage
    further in shows when the file is read, see :func:`connected_job_store`).
    """
    database = store_dir / _EMBEDDED_DATABASE
    inside = [store_dir / ".monty.storage", store_dir / "monty.storage.cfg", database]
    collections = _collection_files(store_dir)
    ensure_writable(
        store_dir,
        *inside,
        *collections,
        label="JobStore folder",
        note="; the embedded store (montydb, sqlite) writes there even to read",
    )
    for path in collections:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        # montydb writes the header as it creates a file, so an empty file is one that was
        # emptied (opening it would write a new header and hide the loss).
        problem = "it is empty" if not header else "not an SQLite database"
        if header != SQLITE_HEADER:
            raise RuntimeError(
                f"JobStore file {path} is damaged ({problem}); {_damaged_store_remedy(path)}"
            )


def job_store(settings: LitclSettings):  # -> jobflow.JobStore (imported lazily)
    """The connected-on-demand jobflow ``JobStore`` for these settings.

    Embedded: refused in one line when its folder is not writable or a file is damaged
    (:func:`check_embedded_store`).
    """
    from jobflow import JobStore

    if settings.mode == "embedded":
        check_embedded_store(settings.store_dir)
        settings.store_dir.mkdir(parents=True, exist_ok=True)
    return JobStore.from_dict_spec(job_store_spec(settings))


def _unreadable_collection(store_dir: Path) -> tuple[Path, str] | None:
    """The first collection file sqlite cannot read through, and why (the slow check)."""
    for path in _collection_files(store_dir):
        try:
            # Read-write, as montydb opens it: a read-only connection to a WAL database
            # leaves its -wal and -shm files behind.
            with closing(sqlite3.connect(path)) as db:
                if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    return path, "sqlite quick_check failed"
                tables = db.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'documents'"
                ).fetchone()[0]
        except sqlite3.DatabaseError as error:
            return path, f"sqlite: {error}"
        if not tables:
            return path, "no documents table"
    return None


@contextmanager
def connected_job_store(settings: LitclSettings) -> Iterator[Any]:
    """:func:`job_store`, connected for the block and closed after it.

    An sqlite error while the block reads or writes the embedded store becomes one
    ``RuntimeError`` naming the damaged file (or the store folder) and what to do.
    """
    store = job_store(settings)
    try:
        store.connect()
        try:
            yield store
        finally:
            store.close()
    except sqlite3.DatabaseError as error:
        found = _unreadable_collection(settings.store_dir)
        if found is None:
            raise RuntimeError(
                f"JobStore {settings.store_dir} cannot be read (sqlite: {error}); restore it "
                "from your backup of the store"
            ) from error
        path, why = found
        raise RuntimeError(
            f"JobStore file {path} is damaged ({why}); {_damaged_store_remedy(path)}"
        ) from error


@dataclass
class InitReport:
    """What ``litcl init`` did."""

    home: Path
    written: list[Path] = field(default_factory=list)
    launchpad_created: bool = False


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (shell lines of a qadapter) as ``|`` blocks, and repeats
    shared values instead of YAML anchors, so people can read and edit the files."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_BlockDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


_WITHHELD = (
    "# MongoDB credentials are not stored in this file (`litcl init --store-password` stores\n"
    "# them, mode 0600): litcl lpad/rlaunch/qlaunch add them from LITCL_MONGO_PASSWORD.\n"
)


def _write_yaml(
    path: Path, content: dict[str, Any], secret: bool = False, header: str = ""
) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    text = header + yaml.dump(content, Dumper=_BlockDumper, sort_keys=False, width=4096)
    tmp.write_text(text, encoding="utf-8")
    if secret:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_config_files(settings: LitclSettings) -> InitReport:
    """Create ``$LITCL_HOME`` and (re)write its config files; idempotent.

    In embedded mode also create and reset the launchpad database if it does not exist
    yet (an existing one, with its workflows, is left as it is). Refused before anything is
    written when the home is not writable or the existing launchpad file is damaged.
    """
    home = settings.home
    if home.exists() and not home.is_dir():
        raise ValueError(f"LITCL_HOME {home} is not a folder: point LITCL_HOME at a folder")
    ensure_writable(home)
    if settings.mode == "embedded" and settings.launchpad_db_file.exists():
        check_db_file(settings.launchpad_db_file)
    home.mkdir(parents=True, exist_ok=True)
    report = InitReport(home=home)
    persisted = settings.model_dump(mode="json", exclude=_NOT_PERSISTED)
    secret = settings.store_password
    authenticated = settings.mode == "mongodb" and bool(settings.mongo_username)
    header = _WITHHELD if authenticated and not secret else ""
    store_spec = {"JOB_STORE": job_store_spec(settings, secret)}
    files: list[tuple[Path, dict[str, Any], bool, str]] = [
        (settings.settings_file, persisted, False, ""),
        (settings.fw_config_file, fw_config_spec(settings), False, ""),
        (settings.launchpad_file, launchpad_spec(settings, secret), secret, header),
        (settings.fworker_file, fworker_spec(settings, "cpu"), False, ""),
        (settings.jobflow_config_file, store_spec, secret, header),
    ]
    if settings.cluster != "none":
        files.append((settings.atomate2_config_file, atomate2_spec(settings), False, ""))
        files.append((settings.qadapter_file, qadapter_spec_for(settings, "cpu"), False, ""))
        if settings.gpus_per_node:
            files.append((settings.gpu_fworker_file, fworker_spec(settings, "gpu"), False, ""))
            gpu_adapter = qadapter_spec_for(settings, "gpu")
            files.append((settings.gpu_qadapter_file, gpu_adapter, False, ""))
    for path, content, private, comment in files:
        _write_yaml(path, content, private, comment)
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


def mongo_error_line(error: Exception, settings: LitclSettings | None = None) -> str:
    """One line for a pymongo error: which server and database, what failed, the likely fix.

    pymongo's own messages run to dozens of lines (topology descriptions) and name no
    setting; these name the litcl setting to look at.
    """
    from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

    if settings is None:
        from litcl_flows.settings import load_settings

        settings = load_settings()
    where = (
        f"MongoDB {settings.mongo_host}:{settings.mongo_port}, database {settings.mongo_database}"
    )
    # pymongo's first clause names the server and the socket error; drop its timeout list.
    reason = re.sub(r"\s*\(configured timeouts.*", "", str(error).splitlines()[0]).split(", ")[0]
    if isinstance(error, ServerSelectionTimeoutError):
        if any(word in str(error) for word in ("SSL", "TLS", "certificate")):
            return (
                f"{where}: the TLS handshake failed ({reason}); mongo_tls is "
                f"{settings.mongo_tls}: check --tls/--no-tls and mongo_tls_ca_file"
            )
        return (
            f"{where}: no server answered within {settings.mongo_timeout_s:g} s ({reason}); "
            "check mongo_host and mongo_port, that the server runs, and that this machine "
            "reaches it (firewall, VPN, TLS)"
        )
    if isinstance(error, OperationFailure) and error.code == 18:
        return (
            f"{where}: authentication failed for user {settings.mongo_username!r} (authSource "
            f"{settings.mongo_authsource}); check the password (LITCL_MONGO_PASSWORD, or the "
            "one `litcl init` stored in my_launchpad.yaml) and mongo_authsource, the database "
            "that holds the user"
        )
    if isinstance(error, OperationFailure) and error.code == 13:
        fix = (
            "the server requires a user: litcl init --username U"
            if not settings.mongo_username
            else f"grant user {settings.mongo_username!r} readWrite on {settings.mongo_database}"
        )
        return f"{where}: not authorised ({reason}); {fix}"
    return f"{where}: {type(error).__name__}: {reason}"


def shadowing_fw_configs(settings: LitclSettings) -> list[Path]:
    """``FW_config.yaml`` files FireWorks reads instead of ``$FW_CONFIG_FILE``.

    FireWorks' ``fw_config`` takes the first of ``./FW_config.yaml``,
    ``~/.fireworks/FW_config.yaml`` and only then ``FW_CONFIG_FILE``: a leftover file in
    either place silently points the bare ``lpad``/``rlaunch``/``qlaunch`` elsewhere.
    """
    ours = settings.fw_config_file.resolve()
    candidates = [Path.cwd() / "FW_config.yaml", Path.home() / ".fireworks" / "FW_config.yaml"]
    return [path for path in candidates if path.is_file() and path.resolve() != ours]
