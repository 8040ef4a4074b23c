"""Labels that name things across layers (job names, folders, report captions, queries),
defined once.

Imports nothing: Makers, flows and the report all import from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: One element's entry of a U label, ``U(Ti)=4``; ``Ti=4`` is read as short for it.
_U_ITEM = re.compile(r"^(?:U\()?([A-Z][a-z]?)\)?=(\d+(?:\.\d*)?|\.\d+)$")
#: :func:`u_label` characters a folder name does without.
_FOLDER_SAFE = str.maketrans({"(": "_", ")": None, "=": None, " ": "_"})


def u_label(hubbard_u_eV: Mapping[str, float]) -> str:
    """A U set as job names, the report and ``litcl query`` spell it: ``{"Ti": 4}`` →
    ``U(Ti)=4``; ``U=0`` when no element has U > 0."""
    parts = [f"U({el})={u:g}" for el, u in sorted(hubbard_u_eV.items()) if u > 0]
    return " ".join(parts) or "U=0"


def u_folder_label(hubbard_u_eV: Mapping[str, float]) -> str:
    """:func:`u_label` without brackets, ``=`` or spaces, for folder names: ``U(Ti)=4`` →
    ``U_Ti4``, ``U=0`` → ``U0``."""
    return u_label(hubbard_u_eV).translate(_FOLDER_SAFE)


def parse_u_label(text: str) -> dict[str, float]:
    """The U set of a :func:`u_label` (``U(Ti)=4 U(V)=3``; commas, or ``Ti=4`` for short,
    too): ``{"Ti": 4.0, "V": 3.0}``; ``U=0`` → ``{}``. ``ValueError`` (one line) otherwise."""
    if text.strip() == "U=0":
        return {}
    u_set: dict[str, float] = {}
    for item in text.replace(",", " ").split():
        match = _U_ITEM.match(item)
        if match is None:
            raise ValueError(f"U set {text!r}: expected U(ELEMENT)=eV or ELEMENT=eV, e.g. Ti=4")
        u_set[match[1]] = float(match[2])
    if not u_set:
        raise ValueError(f"U set {text!r}: expected U(ELEMENT)=eV or ELEMENT=eV, e.g. Ti=4")
    return u_set
