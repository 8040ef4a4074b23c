"""The one exception the structure code raises for bad input."""

from __future__ import annotations


class StructureInputError(ValueError):
    """Input that cannot give the requested cell; the message is one line saying why."""
