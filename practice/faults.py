"""Named points in long flows where a test may kill the process (the worker-kill tests).

``checkpoint(name)`` does nothing unless the environment variable ``PRACTICA_KILL_AT``
names that point: ``"name"`` (the first time it is reached) or ``"name:N"`` (the Nth time
in this process). Then the process kills itself with SIGKILL, as a crash would, so the
tests can prove a rerun finishes the work and repeats none of it.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    wanted = os.environ.get("PRACTICA_KILL_AT", "")
    point, _, nth = wanted.partition(":")
    if not wanted or point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
