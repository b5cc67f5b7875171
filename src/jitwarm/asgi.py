"""Kept for compatibility: ``jitwarm.asgi`` is ``jitwarm.serve.asgi``."""

import sys

from jitwarm.serve import asgi as _impl

sys.modules[__name__] = _impl
