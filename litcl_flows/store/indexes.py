"""Indexes of the JobStore for the common queries (``litcl query``, docs/query.md)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobflow import JobStore

#: (uuid, index): jobflow's key for every write and for ``get_output``.
JOB_KEY_INDEX = [("uuid", 1), ("index", 1)]
#: Single-key indexes of the docs collection: the filters of ``litcl query`` and the
#: document-type and chemical-system queries of docs/query.md. U sets are
#: queried per element (``output.hubbard_u_eV.Ti``), which only a wildcard index serves.
DOCS_INDEXES = (
    "metadata.study",
    "metadata.material",
    "name",
    "output.@class",
    "output.chemsys",
    "output.hubbard_u_eV.$**",
    "output.temperature_K",
)

_log = logging.getLogger(__name__)


def ensure_indexes(store: JobStore) -> JobStore:
    """Create the query indexes on a MongoDB-backed JobStore (connecting it); return it.

    The docs collection gets :data:`JOB_KEY_INDEX` and :data:`DOCS_INDEXES`; each
    additional store (GridFS) an index on ``blob_uuid``, by which jobflow loads data.
    Existing indexes are kept; an index that cannot be created (no ``createIndex``
    privilege, an old server) is logged, not raised. montydb, the embedded store, has no
    indexes: there this does nothing.
    """
    from maggma.stores import MontyStore

    if isinstance(store.docs_store, MontyStore):
        return store
    store.connect()
    failed = [key for key in DOCS_INDEXES if not store.ensure_index(key)]
    try:
        # maggma's ensure_index takes one key only.
        store.docs_store._collection.create_index(JOB_KEY_INDEX, background=True)
    except Exception:  # same tolerance as maggma's ensure_index
        failed.append("uuid+index")
    failed += [
        f"{name}.blob_uuid"
        for name, additional in store.additional_stores.items()
        if not additional.ensure_index("blob_uuid")
    ]
    if failed:
        _log.warning("could not create JobStore indexes on %s", ", ".join(failed))
    return store
