"""Fixtures for the sign-in, session and staff tests of the practice app."""

from __future__ import annotations

import pytest

from tests.practice.helpers import START


@pytest.fixture
def clock(time_machine):
    """The clock stopped at START; ``clock.shift(seconds)`` moves it on."""
    time_machine.move_to(START, tick=False)
    return time_machine
