"""Labels that name things across layers (job names, report captions), defined once.

Imports nothing: Makers, flows and the report all import from here.
"""

from __future__ import annotations

from collections.abc import Mapping


def u_label(hubbard_u_eV: Mapping[str, float]) -> str:
    """A U set as job names and the report spell it: ``{"Ti": 4}`` → ``U(Ti)=4``; ``U=0``
    when no element has U > 0."""
    parts = [f"U({el})={u:g}" for el, u in sorted(hubbard_u_eV.items()) if u > 0]
    return " ".join(parts) or "U=0"
