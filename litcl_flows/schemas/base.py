"""Fields every stored document carries, as emmet's and atomate2's documents carry them.

``last_updated`` is a UTC datetime (now, by default), read back from a datetime, an ISO string
or monty's datetime dict by emmet's own reader. ``formula_pretty`` and ``chemsys`` are computed
by emmet's ``StructureMetadata``, so one query (``{"output.chemsys": "Cl-Li-Ti"}``) finds
litcl's documents and atomate2's task documents of a material alike. ``versions`` names the
packages that built a document: litcl_flows and pymatgen, and the engine where the document
records an engine run.

emmet is imported only where it is used: its import takes seconds, and ``litcl query``
imports these schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

if TYPE_CHECKING:
    from pymatgen.core import Composition, Structure

#: Packages every document's ``versions`` names.
BASE_PACKAGES = ("litcl_flows", "pymatgen")


def package_versions(*packages: str) -> dict[str, str]:
    """Installed versions of :data:`BASE_PACKAGES` and ``packages`` (names as pip spells
    them, e.g. ``deepmd-kit``); a package that is not installed is left out."""
    found = {}
    for package in dict.fromkeys((*BASE_PACKAGES, *packages)):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _as_datetime(value: Any) -> Any:
    """A datetime (naive: UTC, as MongoDB returns it), or anything else through emmet's
    reader (ISO string, ``{"$date": ...}``, monty's datetime dict; None: now)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    from emmet.core.utils import convert_datetime

    return convert_datetime(value)


#: emmet's ``DateTimeType``, with emmet's reader imported only when a value needs it.
UtcDateTime = Annotated[datetime, BeforeValidator(_as_datetime)]


class DocumentMeta(BaseModel):
    """When and with which packages a stored document was built."""

    last_updated: UtcDateTime = Field(
        default_factory=_utcnow,
        description="UTC time the document was built (emmet's last_updated).",
    )
    versions: dict[str, str] = Field(
        default_factory=package_versions,
        description="Versions of the packages that built the document, package name → "
        "version: litcl_flows and pymatgen always; for the document of an engine run also "
        "the engine (lammps, deepmd-kit, chgnet, vasp, …).",
    )


class MaterialMeta(BaseModel):
    """The material a document is about, as emmet's documents name it."""

    formula_pretty: str | None = Field(
        None,
        description="Reduced formula of the material the document is about, e.g. 'Li3TiCl6' "
        "(emmet's formula_pretty); None: the document does not know it.",
    )
    chemsys: str | None = Field(
        None,
        description="Its elements in alphabetical order joined by '-', e.g. 'Cl-Li-Ti' "
        "(emmet's chemsys); None: not known.",
    )


def material_fields(material: Structure | Composition | str | None) -> dict[str, str | None]:
    """``formula_pretty`` and ``chemsys`` of a structure, composition or formula, computed by
    emmet's ``StructureMetadata.from_composition``; both None for None."""
    if material is None:
        return {"formula_pretty": None, "chemsys": None}
    from emmet.core.structure import StructureMetadata
    from pymatgen.core import Composition

    composition = getattr(material, "composition", material)
    if not isinstance(composition, Composition):
        composition = Composition(composition)
    meta = StructureMetadata.from_composition(composition, fields=["formula_pretty", "chemsys"])
    return {"formula_pretty": meta.formula_pretty, "chemsys": meta.chemsys}


def fill_material(document: MaterialMeta, material: Structure | Composition | str | None) -> None:
    """Set ``document``'s ``formula_pretty`` and ``chemsys`` from ``material``
    (:func:`material_fields`); a formula pymatgen cannot read leaves them None."""
    try:
        fields = material_fields(material)
    except ValueError:
        return
    document.formula_pretty = fields["formula_pretty"]
    document.chemsys = fields["chemsys"]
