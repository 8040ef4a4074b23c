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
from jobflow.core.reference import find_and_get_references, find_and_resolve_references
from monty.json import MSONable

if TYPE_CHECKING:
    from collections.abc import Callable

    from jobflow import JobStore


@dataclass(frozen=True)
class StoredOutput(MSONable):
    """Where an output lies: the uuid of its job and ``OutputReference.attributes``.

    Unlike a reference it makes no dependency: pass it only for outputs of jobs that have
    finished (in the loop, the parents of the job that makes the next jobs).
    """

    uuid: str
    attributes: tuple[tuple[str, Any], ...] = ()

    @property
    def reference(self) -> OutputReference:
        """The reference to the output (attributes as tuples again after serialisation)."""
        return OutputReference(self.uuid, tuple(map(tuple, self.attributes)))


def _replace(value: Any, kind: type, convert: Callable[[Any], Any]) -> Any:
    """``value`` with each item of ``kind`` in it (in lists, tuples, dicts) converted."""
    if isinstance(value, kind):
        return convert(value)
    if isinstance(value, list | tuple):
        return type(value)(_replace(item, kind, convert) for item in value)
    if isinstance(value, dict):
        return {key: _replace(item, kind, convert) for key, item in value.items()}
    return value


def detach(value: Any) -> Any:
    """``value`` with each ``OutputReference`` in it replaced by its :class:`StoredOutput`."""
    return _replace(value, OutputReference, lambda ref: StoredOutput(ref.uuid, ref.attributes))


def fetch(value: Any, store: JobStore | None = None) -> Any:
    """``value`` with each :class:`StoredOutput` in it read from ``store`` (None: the running
    job's, which needs ``expose_store``) by jobflow's own resolver."""
    references = _replace(value, StoredOutput, lambda stored: stored.reference)
    if not find_and_get_references(references):
        return value
    store = store or CURRENT_JOB.store
    if store is None:
        raise RuntimeError("a StoredOutput is fetched by a job with expose_store=True")
    return find_and_resolve_references(references, store)
