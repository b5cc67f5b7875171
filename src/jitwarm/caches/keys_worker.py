"""A fresh process that reads the frameworks' cache-key inputs:
``python -m jitwarm.caches.keys_worker SPEC T_SPAWN``.

``SPEC`` names the frameworks (``{"frameworks": [...], "result_path": ...}``); the record
(:func:`jitwarm.caches.keys.read_in_process`) goes to ``result_path``. Started by
:func:`jitwarm.caches.keys.read_in_worker` through the one spawner, so its environment is
the parent's plus the cache settings asked for.
"""

from __future__ import annotations

from jitwarm.measure.spawn import die_with_parent, end_worker

if __name__ == "__main__":
    die_with_parent()  # a parent killed by any means ends this process too

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def main(argv: list[str]) -> int:
    from jitwarm.caches.keys import read_in_process

    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    names = [str(n) for n in spec.get("frameworks") or []]
    record = {"status": "ok", **read_in_process(names)}
    path = spec["result_path"]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(tmp, path)
    return 0


if __name__ == "__main__":
    end_worker(main(sys.argv))
