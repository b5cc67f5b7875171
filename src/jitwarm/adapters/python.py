"""Fallback adapter for plain Python callables: no compilation, nothing to sync."""

from __future__ import annotations

from jitwarm.adapters.base import Adapter


class PythonAdapter(Adapter):
    """A callable no installed adapter recognises: timed as-is, no compile events."""

    name = "python"
