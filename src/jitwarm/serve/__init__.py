"""Serving: warming at start, recompile guards, shape pinning, metrics, ASGI."""
