"""Fallback adapter for plain Python callables: no compilation, nothing to sync."""

from __future__ import annotations

from typing import Any

from jitwarm.adapters.base import Adapter


class PythonAdapter(Adapter):
    """A callable no installed adapter recognises: timed as-is, no compile events."""

    name = "python"

    # NumPy arrays belong to no JIT framework; they are the plain-Python kind
    array_kind = "numpy"

    def is_array(self, x: Any) -> bool:
        return type(x).__module__ == "numpy" and type(x).__name__ == "ndarray"

    def from_numpy(self, arr: Any, device: str | None = None, like: Any = None) -> Any:
        import numpy as np

        return np.ascontiguousarray(arr)
