"""When the ``cached`` state runs, and how a skipped one is explained to a user."""

from __future__ import annotations

from jitwarm.cases.targets import resolve_target
from jitwarm.measure.process import Settings
from jitwarm.measure.runner import Runner

PLAIN = """
import jitwarm

def add(a, b):
    return a + b

@jitwarm.case
def plain():
    return add, (1, 2)
"""

FAST = Settings(max_calls=20, max_time_s=0.2, min_calls=5)


def _run(path, states=("cold", "cached")):
    return Runner(resolve_target(f"{path}::plain"), processes=1, states=states,
                  settings=FAST, timeout_s=120).run()


def test_skipped_cached_state_is_explained_in_plain_words(case_file):
    r = _run(case_file(PLAIN))
    assert "cold" in r.states and "cached" not in r.states
    reason = r.skipped_states["cached"]
    assert "python's" not in reason.lower()
    assert "disk cache" not in reason  # jargon: say what is (not) on disk instead
    assert "compiled" in reason and "cache" in reason
