"""The embedded launchpad: FireWorks in mongomock-persistence mode, guarded for one process.

FireWorks' mongomock mode (``MONGOMOCK_SERVERSTORE_FILE``) reads the whole JSON file into
memory when a client is created and writes it back whole when the client is finalised, with
no locking (STACK.md §8.3). Two processes then hand out duplicate ids and the last to exit
overwrites the other; a process killed mid-write truncates the file. This module adds what
the library lacks:

- an exclusive ``flock`` held for the whole life of a process that opens the launchpad for
  writing (a second process fails at once with :class:`EmbeddedLaunchpadBusy`);
- write-back to a temporary file, ``fsync``, then an atomic rename, so the file on disk is
  always a complete snapshot — a SIGKILL leaves the last saved state, never a torn one;
- one client per file and process, saved explicitly after each change (:func:`save`);
- read-only opening (no lock, never written back) for status displays beside a worker.
"""

from __future__ import annotations

import fcntl
import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fireworks import LaunchPad

CONCURRENCY_HINT = "concurrent workers need MongoDB (litcl init --mode mongodb)"

_held_locks: dict[Path, int] = {}
_writable_launchpads: dict[Path, LaunchPad] = {}


class EmbeddedLaunchpadBusy(RuntimeError):
    """Another process holds the embedded launchpad."""


def acquire_lock(lock_file: Path) -> None:
    """Take the exclusive lock on ``lock_file`` for the rest of this process's life.

    Re-entrant within a process. The operating system releases it when the process ends,
    however it ends, so a killed worker never leaves a stale lock behind.
    """
    lock_file = lock_file.absolute()
    if lock_file in _held_locks:
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
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
    """Write a mongomock ServerStore to its file atomically (temp file, fsync, rename)."""
    import bson.json_util

    target = Path(server_store._filename)  # type: ignore[attr-defined]
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(bson.json_util.dumps(server_store.to_dict()))  # type: ignore[attr-defined]
        handle.flush()
        os.fsync(handle.fileno())
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
    import fireworks.fw_config as fw_config

    if fw_launchpad.MongoClient is not mongomock_persistence.MongoClient:
        fw_config.MONGOMOCK_SERVERSTORE_FILE = str(db_file)
        fw_config.MongoClient = mongomock_persistence.MongoClient
        fw_launchpad.MongoClient = mongomock_persistence.MongoClient
        enable_gridfs_integration()


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
    if not read_only:
        acquire_lock(lock_file)
        if db_file in _writable_launchpads:
            return _writable_launchpads[db_file]
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


def save(launchpad: LaunchPad) -> None:
    """Write the embedded launchpad to its file now (atomically); no-op for MongoDB."""
    server_store = getattr(launchpad.connection, "_store", None)
    if server_store is not None and getattr(server_store, "_filename", None):
        _atomic_to_file(server_store)


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
