"""Queries over the JobStore: stored job outputs by study, job name and field."""

from __future__ import annotations

from typing import Any

from litcl_flows.settings import LitclSettings
from litcl_flows.store.config import job_store

#: What ``litcl query`` shows when no field is asked for: column → dotted path in a stored
#: job document. Documents lacking a path (other job kinds) simply omit that column.
DEFAULT_FIELDS: dict[str, str] = {
    "formula": "output.formula_pretty",
    "energy_eV": "output.output.energy",
    "energy_per_atom_eV": "output.output.energy_per_atom",
    "a_A": "output.structure.lattice.a",
    "b_A": "output.structure.lattice.b",
    "c_A": "output.structure.lattice.c",
    "alpha_deg": "output.structure.lattice.alpha",
    "beta_deg": "output.structure.lattice.beta",
    "gamma_deg": "output.structure.lattice.gamma",
    "volume_A3": "output.structure.lattice.volume",
}


def get_path(document: dict[str, Any], dotted: str) -> Any:
    """Value at a dotted path (``output.structure.lattice.a``); None when absent."""
    value: Any = document
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def query_outputs(
    settings: LitclSettings,
    study: str | None = None,
    job_name: str | None = None,
    fields: list[str] | None = None,
    limit: int = 0,
) -> list[dict[str, Any]]:
    """Stored job outputs, oldest first, as flat records.

    Each record has ``study``, ``job``, ``uuid``, ``completed_at`` and the requested fields
    (dotted paths; :data:`DEFAULT_FIELDS` when none are given). Large data kept in the
    ``data`` store is not loaded.
    """
    criteria: dict[str, Any] = {}
    if study:
        criteria["metadata.study"] = study
    if job_name:
        criteria["name"] = job_name
    columns = {path: path for path in fields} if fields else DEFAULT_FIELDS
    store = job_store(settings)
    store.connect()
    try:
        documents = store.query(criteria, sort={"completed_at": 1}, limit=limit, load=False)
        records = []
        for document in documents:
            record: dict[str, Any] = {
                "study": get_path(document, "metadata.study"),
                "job": document.get("name"),
                "uuid": document.get("uuid"),
                "completed_at": document.get("completed_at"),
            }
            for column, path in columns.items():
                value = get_path(document, path)
                if value is not None:
                    record[column] = value
            records.append(record)
        return records
    finally:
        store.close()
