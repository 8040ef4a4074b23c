"""``litcl doctor``: each piece of the configured state checked on its own, with the fix.

Each check returns a :class:`Check`; one failing check does not stop the others, so a
single run shows everything that is wrong (wrong password *and* a stray FW_config.yaml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from litcl_flows.settings import LitclSettings
from litcl_flows.store.config import (
    connected_job_store,
    is_initialised,
    mongo_error_line,
    shadowing_fw_configs,
)
from litcl_flows.store.indexes import DOCS_INDEXES


@dataclass(frozen=True)
class Check:
    """One thing checked: ``ok`` or not, and what was found (or what to do)."""

    name: str
    ok: bool
    detail: str


def _guarded(name: str, settings: LitclSettings, probe: Callable[[], str]) -> Check:
    """Run ``probe``; its return is the detail of a passed check, an error a failed one."""
    try:
        return Check(name, True, probe())
    except Exception as error:
        if type(error).__module__.startswith("pymongo"):
            return Check(name, False, mongo_error_line(error, settings))
        return Check(name, False, str(error).splitlines()[0] if str(error) else repr(error))


def _config_files(settings: LitclSettings) -> str:
    if not is_initialised(settings):
        raise RuntimeError(f"{settings.home} is not initialised: run `litcl init`")
    password = settings.mongo_password.get_secret_value() if settings.mongo_password else None
    for path in (settings.launchpad_file, settings.jobflow_config_file):
        if password and password in path.read_text() and path.stat().st_mode & 0o077:
            raise RuntimeError(f"{path} holds the password but is readable by others: chmod 600")
    return f"{settings.home} ({settings.mode} mode)"


def _fw_config(settings: LitclSettings) -> str:
    shadows = shadowing_fw_configs(settings)
    if shadows:
        raise RuntimeError(
            f"FireWorks reads {shadows[0]} before {settings.fw_config_file}: rename it"
        )
    return f"FW_CONFIG_FILE={settings.fw_config_file} is the one FireWorks reads"


def _credentials(settings: LitclSettings) -> str:
    if settings.mode != "mongodb":
        return "none needed (embedded)"
    if not settings.mongo_username:
        return "no user (a server without authentication)"
    if settings.mongo_password is None:
        raise RuntimeError(
            f"no password for user {settings.mongo_username!r}: `litcl init` stores it "
            "(0600), or export LITCL_MONGO_PASSWORD"
        )
    where = (
        "stored in my_launchpad.yaml and jobflow.yaml (0600)"
        if settings.store_password
        else "from LITCL_MONGO_PASSWORD only: bare FireWorks, queue jobs and notebooks "
        "cannot connect"
    )
    return f"user {settings.mongo_username!r}, authSource {settings.mongo_authsource}, {where}"


def _launchpad(settings: LitclSettings) -> str:
    from litcl_flows.store.launchpad import open_launchpad

    launchpad = open_launchpad(settings, read_only=True)
    if settings.mode == "mongodb":
        launchpad.connection.server_info()  # reaches the server, checks the user
    n_workflows = launchpad.workflows.count_documents({})
    n_ready = launchpad.fireworks.count_documents({"state": "READY"})
    return f"{n_workflows} workflow(s), {n_ready} READY job(s)"


def _job_store(settings: LitclSettings) -> str:
    with connected_job_store(settings) as store:
        return f"{store.count({})} document(s) in {settings.outputs_collection}"


def _data_store(settings: LitclSettings) -> str:
    with connected_job_store(settings) as store:
        data = store.additional_stores["data"]
        kind = type(data).__name__
        return f"{kind} {settings.data_collection}: {data.count({})} blob(s)"


def _indexes(settings: LitclSettings) -> str:
    if settings.mode == "embedded":
        return "none (montydb has no indexes)"
    with connected_job_store(settings) as store:
        names = store.docs_store._collection.index_information()
        keys = {key for index in names.values() for key, _ in index["key"]}
    missing = [key for key in DOCS_INDEXES if key not in keys]
    if missing:
        raise RuntimeError(
            f"missing {', '.join(missing)}: `litcl run` or `litcl rlaunch` creates them "
            "(needs the createIndex privilege)"
        )
    return f"{len(DOCS_INDEXES)} query indexes present"


#: Checks that talk to the server: after one finds no server, the rest are not tried (each
#: would wait out the same timeout).
SERVER_CHECKS = ("launchpad", "JobStore", "data store", "indexes")

CHECKS: dict[str, Callable[[LitclSettings], str]] = {
    "config files": _config_files,
    "FireWorks config": _fw_config,
    "credentials": _credentials,
    "launchpad": _launchpad,
    "JobStore": _job_store,
    "data store": _data_store,
    "indexes": _indexes,
}


def run_checks(settings: LitclSettings) -> list[Check]:
    """Every check of :data:`CHECKS`, in order; a failure does not stop the others, except
    that no server check is tried after one found no server."""
    checks: list[Check] = []
    unreachable = False
    for name, probe in CHECKS.items():
        if unreachable and name in SERVER_CHECKS:
            checks.append(Check(name, False, "not tried: no server answered (see launchpad)"))
            continue
        check = _guarded(name, settings, lambda f=probe: f(settings))
        unreachable = settings.mode == "mongodb" and "no server answered" in check.detail
        checks.append(check)
    return checks
