"""Outputs handed by address to the jobs that a running job makes.

jobflow on FireWorks refuses a flow made by a running job (``Response(replace=...)``) whose
jobs reference the outputs of jobs outside it (``JobFiretask`` calls ``get_flow`` without
``allow_external_references``), so such a job can pass earlier outputs on only as values.
The concurrent-learning loop would then copy the reference trajectories into every job it
makes, and so into the launchpad: a 1,000-frame demo's embedded launchpad grew to 72 MB and
each of its jobs a minute slower. A :class:`StoredOutput` is the address of an output (job
uuid and attribute path) without the reference; the job that reads it fetches it from its
JobStore (``expose_store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jobflow import CURRENT_JOB, OutputReference
from monty.json import MSONable

if TYPE_CHECKING:
    from jobflow import JobStore


@dataclass(frozen=True)
class StoredOutput(MSONable):
    """Where an output lies: the uuid of its job and ``OutputReference.attributes``.

    Unlike a reference it makes no dependency: pass it only for outputs of jobs that have
    finished (in the loop, the parents of the job that makes the next jobs).
    """

    uuid: str
    attributes: tuple[tuple[str, Any], ...] = ()

    def fetch(self, store: JobStore) -> Any:
        """The output, read from ``store`` (references inside it resolved)."""
        return OutputReference(self.uuid, tuple(map(tuple, self.attributes))).resolve(store)


def detach(value: Any) -> Any:
    """``value`` with each ``OutputReference`` in it (in lists, tuples, dicts) replaced by
    its :class:`StoredOutput`."""
    if isinstance(value, OutputReference):
        return StoredOutput(value.uuid, value.attributes)
    if isinstance(value, list | tuple):
        return type(value)(detach(item) for item in value)
    if isinstance(value, dict):
        return {key: detach(item) for key, item in value.items()}
    return value


def fetch(value: Any, store: JobStore | None = None) -> Any:
    """``value`` with each :class:`StoredOutput` in it fetched from ``store`` (None: the
    running job's, which needs ``expose_store``)."""
    if isinstance(value, StoredOutput):
        store = store or CURRENT_JOB.store
        if store is None:
            raise RuntimeError("a StoredOutput is fetched by a job with expose_store=True")
        return value.fetch(store)
    if isinstance(value, list | tuple):
        return type(value)(fetch(item, store) for item in value)
    if isinstance(value, dict):
        return {key: fetch(item, store) for key, item in value.items()}
    return value
