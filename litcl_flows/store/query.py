"""Queries over the JobStore: job outputs by study, job and field; the study's derived
properties (transport, Arrhenius) by study, material, U set, temperature and any value."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from litcl_flows.labels import parse_u_label, u_label
from litcl_flows.schemas.study import ArrheniusDocument, TransportRunDocument
from litcl_flows.settings import LitclSettings
from litcl_flows.store.config import connected_job_store

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

#: ``--temperature`` matches stored temperatures within this many kelvin.
TEMPERATURE_TOLERANCE_K = 0.5

#: Documents whose top-level numbers are the study's properties.
PROPERTY_MODELS: tuple[type[BaseModel], ...] = (TransportRunDocument, ArrheniusDocument)


def _uncertainty_field(name: str, fields: dict[str, Any]) -> str | None:
    """The field holding ``name``'s uncertainty: ``stderr`` (or ``interval``) inserted
    before the unit, e.g. ``D_self_cm2_s`` → ``D_self_stderr_cm2_s``."""
    parts = name.split("_")
    for word in ("stderr", "interval"):
        for cut in range(1, len(parts) + 1):
            candidate = "_".join([*parts[:cut], word, *parts[cut:]])
            if candidate in fields:
                return candidate
    return None


#: Property → its uncertainty field: every field of :data:`PROPERTY_MODELS` that has one
#: (the transport keys of docs/study.md), in model order.
PROPERTIES: dict[str, str] = {
    name: sibling
    for model in PROPERTY_MODELS
    for name in model.model_fields
    if (sibling := _uncertainty_field(name, model.model_fields))
}


def parse_hubbard_u(text: str) -> dict[str, float]:
    """The ``--u`` filter: a U label (:func:`~litcl_flows.labels.parse_u_label`: ``U(Ti)=4``,
    ``Ti=4``, ``Ti=4,V=3``) naming each element it matches."""
    u_set = parse_u_label(text)
    if not u_set:
        # Stored U sets keep their zeros ({"Ti": 0.0}); "no U" is no filter on a field.
        raise ValueError(f"U set {text!r} names no element: filter on one, e.g. Ti=0")
    return u_set


def _with_uncertainty(value: float | None, uncertainty: float | list[float] | None) -> str:
    if value is None:
        return ""
    if isinstance(uncertainty, list):
        return f"{value:.4g} [{uncertainty[0]:.3g}, {uncertainty[1]:.3g}]"
    return f"{value:.4g}" if uncertainty is None else f"{value:.4g} ± {uncertainty:.2g}"


def property_table(records: list[dict[str, Any]], properties: list[str]) -> list[dict[str, Any]]:
    """The rows ``litcl query --property`` prints for :func:`query_properties`' records: the
    U set as its label (``U(Ti)=4``), each property as ``value ± stderr`` (``value [interval]``)."""
    return [
        {
            "study": record["study"],
            "U": "" if record["hubbard_u_eV"] is None else u_label(record["hubbard_u_eV"]),
            "T_K": record["temperature_K"],
            **{
                name: _with_uncertainty(record[name], record[PROPERTIES[name]])
                for name in properties
            },
            "engine": record["engine"],
            "uuid": record["uuid"],
        }
        for record in records
    ]


#: ``--where`` operator → MongoDB operator.
WHERE_OPERATORS: dict[str, str] = {
    "<": "$lt",
    "<=": "$lte",
    ">": "$gt",
    ">=": "$gte",
    "==": "$eq",
    "!=": "$ne",
}
_WHERE = re.compile(r"^\s*([^\s<>=!$][^\s<>=!]*)\s*(<=|>=|==|!=|<|>)\s*([^\s<>=!](?:.*\S)?)\s*$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def parse_where(expression: str) -> dict[str, Any]:
    """``"output.activation_energy_eV<0.3"`` → ``{"output.activation_energy_eV": {"$lt": 0.3}}``.

    PATH OP VALUE: a dotted path from the document root, one of :data:`WHERE_OPERATORS`, and
    a value, read as a number when it is one (``0.3``, ``800``, ``1e-7``), else as a string
    (``output.engine==lammps+deepmd``).
    """
    match = _WHERE.match(expression)
    if match is None:
        raise ValueError(
            f"{expression!r}: expected PATH OP VALUE with OP one of {', '.join(WHERE_OPERATORS)}"
        )
    path, operator, text = match.groups()
    value: Any = text
    if _NUMBER.match(text):
        value = float(text) if any(c in text for c in ".eE") else int(text)
    return {path: {WHERE_OPERATORS[operator]: value}}


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


def output_criteria(
    study: str | None = None,
    job_name: str | None = None,
    material: str | None = None,
    hubbard_u_eV: dict[str, float] | None = None,
    temperature_K: float | None = None,
    where: Sequence[str] = (),
) -> dict[str, Any]:
    """MongoDB filter on stored job documents.

    ``material`` is the reduced formula (``metadata.material``); each element of
    ``hubbard_u_eV`` must equal ``output.hubbard_u_eV.<element>`` (other elements of the
    stored set are free); ``temperature_K`` matches ``output.temperature_K`` within
    :data:`TEMPERATURE_TOLERANCE_K`; each ``where`` expression (:func:`parse_where`, e.g.
    ``output.activation_energy_eV<0.3``) must hold too.
    """
    conditions = [parse_where(expression) for expression in where]
    criteria: dict[str, Any] = {}
    if study:
        criteria["metadata.study"] = study
    if job_name:
        criteria["name"] = job_name
    if material:
        criteria["metadata.material"] = material
    for element, u in (hubbard_u_eV or {}).items():
        criteria[f"output.hubbard_u_eV.{element}"] = u
    if temperature_K is not None:
        criteria["output.temperature_K"] = {
            "$gte": temperature_K - TEMPERATURE_TOLERANCE_K,
            "$lte": temperature_K + TEMPERATURE_TOLERANCE_K,
        }
    if conditions:
        criteria["$and"] = conditions
    return criteria


def query_outputs(
    settings: LitclSettings,
    study: str | None = None,
    job_name: str | None = None,
    fields: list[str] | None = None,
    limit: int = 0,
    *,
    material: str | None = None,
    hubbard_u_eV: dict[str, float] | None = None,
    temperature_K: float | None = None,
    where: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Stored job outputs, oldest first, as flat records.

    Each record has ``study``, ``job``, ``uuid``, ``completed_at`` and the requested fields
    (dotted paths; :data:`DEFAULT_FIELDS` when none are given). Filters: see
    :func:`output_criteria`. Large data kept in the ``data`` store is not loaded.
    """
    criteria = output_criteria(study, job_name, material, hubbard_u_eV, temperature_K, where)
    columns = {path: path for path in fields} if fields else DEFAULT_FIELDS
    with connected_job_store(settings) as store:
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


def query_properties(
    settings: LitclSettings,
    properties: list[str],
    study: str | None = None,
    job_name: str | None = None,
    limit: int = 0,
    *,
    material: str | None = None,
    hubbard_u_eV: dict[str, float] | None = None,
    temperature_K: float | None = None,
    where: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The study's derived properties: one record per stored document holding one of them.

    Transport keys come per run (one U set, one temperature), Arrhenius keys per U set
    (``temperature_K`` None). Each record has ``study``, ``material``, ``hubbard_u_eV``,
    ``temperature_K``, each asked property and its uncertainty field (:data:`PROPERTIES`;
    None where the document has no value, e.g. a failed run), ``engine`` (the reference
    engine the study rests on: ``chgnet`` is a stand-in for DFT), ``job`` and ``uuid``.
    Sorted by study, U set and temperature (a U set's Arrhenius record last). Filters: see
    :func:`output_criteria`.
    """
    unknown = [name for name in properties if name not in PROPERTIES]
    if unknown or not properties:
        raise ValueError(
            f"unknown property {', '.join(unknown) or '(none)'}; known: {', '.join(PROPERTIES)}"
        )
    columns = list(dict.fromkeys(c for name in properties for c in (name, PROPERTIES[name])))
    criteria = output_criteria(study, job_name, material, hubbard_u_eV, temperature_K, where)
    criteria["$or"] = [{f"output.{name}": {"$exists": True}} for name in properties]
    wanted = ["name", "metadata", "output.hubbard_u_eV", "output.temperature_K"]
    with connected_job_store(settings) as store:
        documents = store.query(
            criteria,
            properties=wanted + [f"output.{column}" for column in columns],
            sort={"completed_at": 1},
            limit=limit,
            load=False,
        )
        records = [
            {
                "study": get_path(document, "metadata.study"),
                "material": get_path(document, "metadata.material"),
                "hubbard_u_eV": get_path(document, "output.hubbard_u_eV"),
                "temperature_K": get_path(document, "output.temperature_K"),
                **{column: get_path(document, f"output.{column}") for column in columns},
                "engine": get_path(document, "metadata.reference_engine"),
                "job": document.get("name"),
                "uuid": document.get("uuid"),
            }
            for document in documents
        ]
    return sorted(
        records,
        key=lambda r: (
            r["study"] or "",
            sorted((r["hubbard_u_eV"] or {}).items()),
            float("inf") if r["temperature_K"] is None else r["temperature_K"],
        ),
    )
