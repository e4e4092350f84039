"""practice.faults: a checkpoint kills its process (SIGKILL) only where PRACTICA_KILL_AT says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Reaches "a" three times and "b" once, saying so before each; prints "end" if it lives.
SCRIPT = """
from practice.faults import checkpoint
for name in ("a", "b", "a", "a"):
    print(name, flush=True)
    checkpoint(name)
print("end", flush=True)
"""


def run(kill_at: str | None) -> tuple[int, list[str]]:
    env = {key: value for key, value in os.environ.items() if key != "PRACTICA_KILL_AT"}
    if kill_at is not None:
        env["PRACTICA_KILL_AT"] = kill_at
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout.split()


@pytest.mark.parametrize(
    ("kill_at", "code", "printed"),
    [
        (None, 0, ["a", "b", "a", "a", "end"]),
        ("", 0, ["a", "b", "a", "a", "end"]),
        ("c", 0, ["a", "b", "a", "a", "end"]),
        ("a", -signal.SIGKILL, ["a"]),
        ("b", -signal.SIGKILL, ["a", "b"]),
        ("a:2", -signal.SIGKILL, ["a", "b", "a"]),
        ("a:3", -signal.SIGKILL, ["a", "b", "a", "a"]),
        ("a:4", 0, ["a", "b", "a", "a", "end"]),
    ],
)
def test_a_checkpoint_kills_at_the_named_point_and_its_nth_time_only(kill_at, code, printed):
    assert run(kill_at) == (code, printed)
