"""The embedded launchpad: FireWorks in mongomock-persistence mode, guarded for one process.

FireWorks' mongomock mode (``MONGOMOCK_SERVERSTORE_FILE``) reads the whole JSON file into
memory when a client is created and writes it back whole when the client is finalised, with
no locking. Two processes then hand out duplicate ids and the last to exit
overwrites the other; a process killed mid-write truncates the file. This module adds what
the library lacks:

- an exclusive ``flock`` held for the whole life of a process that opens the launchpad for
  writing (a second process fails at once with :class:`EmbeddedLaunchpadBusy`);
- write-back to a temporary file, ``fsync``, then an atomic rename, so the file on disk is
  always a complete snapshot — a SIGKILL leaves the last saved state, never a torn one; the
  file replaced is kept as ``launchpad.json.bak``, the last good copy;
- a check of the file before mongomock-persistence reads it (:func:`check_db_file`): a
  damaged one is refused in one line that says how to restore the last good copy;
- a check that the home is writable before a writer starts (:func:`ensure_writable`);
- one client per file and process, saved explicitly after each change (:func:`save`);
- read-only opening (no lock, never written back) for status displays beside a worker;
- no ping thread for its launches (:func:`_start_ping_unless_embedded`).
"""

from __future__ import annotations

import errno
import fcntl
import gc
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threading import Event

    from fireworks import LaunchPad

CONCURRENCY_HINT = "concurrent workers need MongoDB (litcl init --mode mongodb)"

_held_locks: dict[Path, int] = {}
_writable_launchpads: dict[Path, LaunchPad] = {}


class EmbeddedLaunchpadBusy(RuntimeError):
    """Another process holds the embedded launchpad."""


class NotWritable(RuntimeError):
    """A folder litcl must write to cannot be written (permissions, read-only mount)."""


class LaunchpadFileDamaged(ValueError):
    """The embedded launchpad file is not a mongomock-persistence database."""


def backup_file(db_file: Path) -> Path:
    """The last good copy of ``db_file`` that every save keeps: ``launchpad.json.bak``."""
    return db_file.with_name(f"{db_file.name}.bak")


def _is_writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def _why_not_writable(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
        mode = os.stat(path).st_mode
    except OSError as error:
        return error.strerror or str(error)
    return f"permission denied ({stat.filemode(mode)})"


def ensure_writable(folder: Path, *inside: Path, label: str = "LITCL_HOME", note: str = "") -> None:
    """Refuse, before anything is written, when litcl cannot write to ``folder``.

    A missing ``folder`` is checked by the nearest folder above it, where it would be
    created; each of ``inside`` (files or folders in it that litcl writes) if it exists.
    ``note`` ends the message (why this command must write there).
    """
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    for path in (existing, *(path for path in inside if path.exists())):
        if not _is_writable(path):
            where = "" if path == folder else f" ({path})"
            reason = _why_not_writable(path)
            raise NotWritable(f"{label} {folder} is not writable{where}: {reason}{note}")


def _not_writable_from(error: OSError, folder: Path) -> NotWritable | None:
    """A :class:`NotWritable` for an ``OSError`` that means "cannot write here", or None."""
    if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
        return None
    return NotWritable(f"LITCL_HOME {folder} is not writable: {error.strerror} ({error.filename})")


def acquire_lock(lock_file: Path) -> None:
    """Take the exclusive lock on ``lock_file`` for the rest of this process's life.

    Re-entrant within a process. The operating system releases it when the process ends,
    however it ends, so a killed worker never leaves a stale lock behind.
    """
    lock_file = lock_file.absolute()
    if lock_file in _held_locks:
        return
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        refusal = _not_writable_from(error, lock_file.parent)
        if refusal is None:
            raise
        raise refusal from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise EmbeddedLaunchpadBusy(
            f"the embedded launchpad in {lock_file.parent} is in use by another process "
            f"(pid {holder}); {CONCURRENCY_HINT}"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held_locks[lock_file] = fd


def _atomic_to_file(server_store: object) -> None:
    """Write a mongomock ServerStore to its file atomically (temp file, fsync, rename).

    The file replaced becomes :func:`backup_file` (a hard link, so no copy is written; a
    copy where the file system has no hard links). Every step leaves a complete
    ``launchpad.json``: there is no moment without one.
    """
    import bson.json_util

    target = Path(server_store._filename)  # type: ignore[attr-defined]
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(bson.json_util.dumps(server_store.to_dict()))  # type: ignore[attr-defined]
        handle.flush()
        os.fsync(handle.fileno())
    if target.exists():
        backup = backup_file(target)
        backup_tmp = target.with_name(f".{backup.name}.{os.getpid()}.tmp")
        backup_tmp.unlink(missing_ok=True)
        try:
            os.link(target, backup_tmp)
        except OSError:  # no hard links on this file system
            shutil.copyfile(target, backup_tmp)
        os.replace(backup_tmp, backup)
    os.replace(tmp, target)


def _use_mongomock(db_file: Path) -> None:
    """Point FireWorks at ``db_file`` through mongomock-persistence, with atomic saves.

    mongomock-persistence reads ``MONGOMOCK_SERVERSTORE_FILE`` each time a client is
    created. FireWorks picks its ``MongoClient`` once, when first imported; if that
    happened before embedded mode was known (jobflow imports FireWorks), rebind it as
    FireWorks' own mongomock switch (``fw_config.override_user_settings``) would have.
    """
    os.environ["MONGOMOCK_SERVERSTORE_FILE"] = str(db_file)
    import mongomock_persistence
    from mongomock.gridfs import enable_gridfs_integration
    from mongomock.store import ServerStore

    # mongomock-persistence writes the file in place (a kill mid-write truncates it);
    # replace its writer before any client exists, since each client's exit hook binds it.
    ServerStore._to_file = _atomic_to_file
    import fireworks.core.launchpad as fw_launchpad
    import fireworks.core.rocket as fw_rocket
    import fireworks.fw_config as fw_config

    if fw_rocket.start_ping_launch is not _start_ping_unless_embedded:
        global _fireworks_start_ping_launch
        _fireworks_start_ping_launch = fw_rocket.start_ping_launch
        fw_rocket.start_ping_launch = _start_ping_unless_embedded

    if fw_launchpad.MongoClient is not mongomock_persistence.MongoClient:
        fw_config.MONGOMOCK_SERVERSTORE_FILE = str(db_file)
        fw_config.MongoClient = mongomock_persistence.MongoClient
        fw_launchpad.MongoClient = mongomock_persistence.MongoClient
        enable_gridfs_integration()


_fireworks_start_ping_launch: Callable[[LaunchPad, int], Event | None] | None = None


def _start_ping_unless_embedded(launchpad: LaunchPad | None, launch_id: int) -> Event | None:
    """FireWorks' ping thread for a MongoDB launchpad, none for an embedded one.

    The thread pings once more as its job ends, racing ``complete_launch``, whose replace
    mongomock does in place (clear, then refill): the ping may find no launch and print
    "No Launch exists" into the worker's output. Nothing reads an embedded launchpad's
    pings: one process owns it, and its lost runs are found by the lock.
    """
    if launchpad is not None and is_embedded(launchpad):
        return None
    assert _fireworks_start_ping_launch is not None
    return _fireworks_start_ping_launch(launchpad, launch_id)


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


def _shape_problem(database: Any) -> str | None:
    """What keeps ``database`` (parsed JSON) from being a mongomock-persistence file.

    The shape ``ServerStore`` reads: ``{database: {collection: {"name": str,
    "documents": [[id, document], ...]}}}``.
    """
    if not isinstance(database, dict):
        return f"the top level is {_json_kind(database)}, not an object of databases"
    for db_name, collections in database.items():
        if not isinstance(collections, dict):
            kind = _json_kind(collections)
            return f"database {db_name!r} is {kind}, not an object of collections"
        for name, collection in collections.items():
            where = f"collection {db_name}.{name}"
            if not isinstance(collection, dict):
                return f"{where} is {_json_kind(collection)}, not an object"
            if not isinstance(collection.get("name"), str):
                return f"{where} has no 'name'"
            documents = collection.get("documents")
            if not isinstance(documents, list):
                return f"{where} has no 'documents' list"
            for index, pair in enumerate(documents):
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], dict)):
                    return f"document {index} of {where} is not an [id, document] pair"
    return None


def db_file_problem(db_file: Path) -> str | None:
    """Why ``db_file`` cannot be read as the embedded launchpad, or None when it can."""
    raw = db_file.read_bytes()
    if not raw.strip():
        return "it is empty"
    try:
        text = raw.decode("utf-8")  # as mongomock-persistence reads it
    except UnicodeDecodeError as error:
        return f"it is not valid JSON: not UTF-8 text at byte {error.start}"
    try:
        database = json.loads(text)
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()):
            return f"it is not valid JSON: it ends early, truncated at byte {len(raw)}"
        return f"it is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    return _shape_problem(database)


def check_db_file(db_file: Path) -> None:
    """Refuse a damaged launchpad file in one line: what is wrong and how to restore it.

    Run before mongomock-persistence reads the file, which would fail with a bare JSON error
    (no file name) or a traceback.
    """
    problem = db_file_problem(db_file)
    if problem is None:
        return
    backup = backup_file(db_file)
    if backup.exists() and db_file_problem(backup) is None:
        remedy = f"restore the last good copy: cp {backup} {db_file}"
    else:
        state = "is damaged too" if backup.exists() else "does not exist"
        remedy = (
            f"its backup {backup} {state}; to start an empty launchpad (its workflows are "
            f"lost, stored outputs are kept): mv {db_file} {db_file}.damaged && litcl init"
        )
    raise LaunchpadFileDamaged(f"embedded launchpad {db_file} is damaged ({problem}); {remedy}")


def use_pymongo() -> None:
    """Undo :func:`_use_mongomock`'s rebinding of FireWorks' ``MongoClient`` in this process.

    For a MongoDB-mode launchpad opened after an embedded one in the same process (tests,
    notebooks): FireWorks would otherwise talk to the mongomock file.
    """
    persistence = sys.modules.get("mongomock_persistence")
    if persistence is None:
        return
    import fireworks.core.launchpad as fw_launchpad
    import fireworks.fw_config as fw_config
    import pymongo

    if fw_launchpad.MongoClient is persistence.MongoClient:
        fw_launchpad.MongoClient = pymongo.MongoClient
        fw_config.MongoClient = pymongo.MongoClient


def initialise_db_file(db_file: Path) -> bool:
    """Create an empty mongomock database file; return whether it was new."""
    if db_file.exists():
        return False
    db_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_file.with_name(f".{db_file.name}.{os.getpid()}.tmp")
    tmp.write_text("{}", encoding="utf-8")
    os.replace(tmp, db_file)
    return True


def open_embedded_launchpad(
    launchpad_file: Path, db_file: Path, lock_file: Path, read_only: bool = False
) -> LaunchPad:
    """The embedded LaunchPad stored in ``db_file``, configured by ``launchpad_file``.

    Writable (the default): takes the process lock and returns the one client of this
    process for that file. Read-only: no lock, a fresh snapshot of the last saved state that
    is never written back.
    """
    if not db_file.exists():
        raise FileNotFoundError(f"no embedded launchpad at {db_file}: run `litcl init` first")
    db_file = db_file.absolute()
    if not read_only and db_file in _writable_launchpads:
        return _writable_launchpads[db_file]  # this process holds the lock already
    if not read_only:
        ensure_writable(db_file.parent, lock_file)
    check_db_file(db_file)
    if not read_only:
        acquire_lock(lock_file)
        # Temporary files of a writer killed mid-save; the lock says no one is writing now.
        for stale in db_file.parent.glob(f".{db_file.name}.*.tmp"):
            stale.unlink()
    _use_mongomock(db_file)
    from fireworks import LaunchPad

    launchpad = LaunchPad.from_file(str(launchpad_file))
    if read_only:
        launchpad.connection._store._finalizer.detach()
    else:
        _writable_launchpads[db_file] = launchpad
    return launchpad


def is_embedded(launchpad: LaunchPad) -> bool:
    """Whether ``launchpad`` lives in a mongomock-persistence file (not a MongoDB server)."""
    server_store = getattr(launchpad.connection, "_store", None)
    return server_store is not None and bool(getattr(server_store, "_filename", None))


def save(launchpad: LaunchPad) -> None:
    """Write the embedded launchpad to its file now (atomically); no-op for MongoDB."""
    if is_embedded(launchpad):
        _atomic_to_file(launchpad.connection._store)


def run_fireworks_command(
    main: str,
    args: list[str],
    launchpad_file: Path,
    fworker_file: Path,
    db_file: Path,
    lock_file: Path,
) -> int:
    """Run FireWorks' own ``lpad``/``rlaunch`` in this process under the embedded lock.

    ``main`` is ``"lpad"`` or ``"rlaunch"``. The command creates its own client, which is
    saved (atomically) when it is finalised, while this process still holds the lock.
    """
    if main == "rlaunch" and "multi" in args:
        raise ValueError(
            "`rlaunch multi` loses every change in embedded mode (its server process never "
            f"saves the launchpad); use `litcl run` — {CONCURRENCY_HINT}"
        )
    ensure_writable(db_file.parent, lock_file)
    check_db_file(db_file)
    acquire_lock(lock_file)
    _use_mongomock(db_file.absolute())
    if main == "lpad":
        from fireworks.scripts.lpad_run import lpad

        code = lpad(["-l", str(launchpad_file), *args])
    else:
        from fireworks.scripts.rlaunch_run import rlaunch

        code = rlaunch(["-l", str(launchpad_file), "-w", str(fworker_file), *args])
    gc.collect()  # finalise the command's client now, so its changes are saved before we return
    return code
