"""practice.faults.checkpoint: nothing happens unless PRACTICA_KILL_AT names the point;
then the process is killed there (SIGKILL), at the Nth time when asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from practice.faults import checkpoint

SCRIPT = (
    "from practice.faults import checkpoint\n"
    "for n in range(3):\n"
    "    checkpoint('autopay.after_attempt'); print('passed', n, flush=True)\n"
    "checkpoint('other'); print('done', flush=True)\n"
)


def run(kill_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PRACTICA_KILL_AT"}
    if kill_at is not None:
        env["PRACTICA_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_without_the_variable_every_checkpoint_passes(monkeypatch):
    monkeypatch.delenv("PRACTICA_KILL_AT", raising=False)
    checkpoint("autopay.after_attempt")
    result = run(None)
    assert result.returncode == 0 and result.stdout.split("\n")[-2] == "done"


@pytest.mark.parametrize(("kill_at", "printed"), [("autopay.after_attempt", 0), ("autopay.after_attempt:3", 2)])
def test_the_named_point_kills_the_process(kill_at, printed):
    result = run(kill_at)
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.splitlines() == [f"passed {n}" for n in range(printed)]


def test_another_point_is_not_affected():
    result = run("somewhere.else")
    assert result.returncode == 0 and "done" in result.stdout
