"""Kept for compatibility: ``jitwarm.pytest_plugin`` is ``jitwarm.integrations.pytest_plugin``."""

import sys

from jitwarm.integrations import pytest_plugin as _impl

sys.modules[__name__] = _impl
