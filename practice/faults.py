"""Kill points for the fault tests: a process started with PRACTICA_KILL_AT="name" (or
"name:N", the Nth time this process reaches it) dies by SIGKILL at ``checkpoint(name)``,
as a worker does when its machine loses power or the kernel kills it for memory. Without
the variable (always, outside those tests) a checkpoint does nothing."""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    wanted = os.environ.get("PRACTICA_KILL_AT")
    if not wanted or wanted.partition(":")[0] != name:
        return
    _reached[name] += 1
    if _reached[name] == int(wanted.partition(":")[2] or 1):
        os.kill(os.getpid(), signal.SIGKILL)
