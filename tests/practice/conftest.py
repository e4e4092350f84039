"""Helpers for the sign-in, session and staff tests of the practice app."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.models import Practice

from ..conftest import PASSWORD

# A fixed moment to start the clock at, so that time-based tests read the same every run.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sign_in(client: Client, email: str, password: str = PASSWORD, *, ip: str = "198.51.100.7", **extra):
    """Post the sign-in form as a person would, from the address ``ip``."""
    return client.post(reverse("signin"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def dashboard_url(practice: Practice) -> str:
    return reverse("dashboard", kwargs={"practice_slug": practice.slug})


def purl(name: str, practice: Practice, **kwargs) -> str:
    return reverse(name, kwargs={"practice_slug": practice.slug, **kwargs})


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows right now for ``device``."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def page_text(response) -> str:
    return response.content.decode()


@pytest.fixture
def clock(time_machine):
    """The clock stopped at START; ``clock.shift(seconds)`` moves it on."""
    time_machine.move_to(START, tick=False)
    return time_machine
